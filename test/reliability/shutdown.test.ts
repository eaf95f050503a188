/**
 * Shutdown: SIGTERM to Parley as `npm start` runs it, with idle sockets,
 * streaming sockets and HTTP streams open and a short SHUTDOWN_GRACE_MS.
 * The process must exit 0 within the grace period plus a second, every
 * client must get its surface's error event (not a reset), and every reply
 * in flight must be stored as interrupted with its text so far.
 */
import Database from 'libsql';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { spawnParley, type ParleyProcess } from '../support/parley-process.js';
import { temporarySqliteFile, type TemporarySqliteFile } from '../support/services.js';

const graceMs = 1_500;
/** 200 tokens at 20 ms: about 4 s, far past the grace period. */
const longReply = Array.from({ length: 200 }, (_, index) => `w${index}`).join(' ');

interface StreamOutcome {
  surface: string;
  /** Every `data:` payload, parsed. */
  events: Record<string, unknown>[];
  /** How the body ended: normally, or with a network error (a reset). */
  ending: 'end' | 'reset';
}

/** POSTs and reads an SSE body to its end, resolving once at least one event has arrived. */
async function openStream(
  surface: string,
  url: string,
  body: unknown,
): Promise<{ firstEvent: Promise<void>; outcome: Promise<StreamOutcome> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  expect(response.status, surface).toBe(200);
  let signalFirst!: () => void;
  const firstEvent = new Promise<void>((resolve) => (signalFirst = resolve));
  const outcome = (async (): Promise<StreamOutcome> => {
    const events: Record<string, unknown>[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith('data: {')) continue;
          events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
          if (events.length === 3) signalFirst();
        }
      }
      return { surface, events, ending: 'end' };
    } catch {
      return { surface, events, ending: 'reset' };
    }
  })();
  return { firstEvent, outcome };
}

describe('shutting down on SIGTERM', () => {
  let fake: FakeUpstream;
  let file: TemporarySqliteFile;
  let parley: ParleyProcess | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    fake = await FakeUpstream.start();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await parley?.kill();
    await file?.remove();
    fake.reset();
  });
  afterAll(async () => {
    await fake.close();
  });

  async function start(): Promise<ParleyProcess> {
    file = await temporarySqliteFile();
    parley = await spawnParley({
      DATABASE_URL: `file:${file.path}`,
      SHUTDOWN_GRACE_MS: String(graceMs),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
    });
    return parley;
  }

  async function socketTo(namespace: string): Promise<Socket> {
    const socket = connect(`${parley!.url}${namespace}`, { transports: ['websocket'] });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** Sends SIGTERM and resolves with how long the process took to exit, and its exit code. */
  async function terminate(process: ParleyProcess): Promise<{ code: number | null; elapsedMs: number }> {
    const sentAt = Date.now();
    process.child.kill('SIGTERM');
    const { code } = await process.exited;
    return { code, elapsedMs: Date.now() - sentAt };
  }

  it('exits 0 at once with idle sockets connected, which do not reconnect to it', async () => {
    const running = await start();
    const idle = await Promise.all(['/ai', '/ai', '/'].map((namespace) => socketTo(namespace)));
    const { code, elapsedMs } = await terminate(running);
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(idle.every((socket) => !socket.connected)).toBe(true);
  });

  it(
    'interrupts every stream at the end of the grace period: each client gets its error event, each reply is stored as interrupted',
    { timeout: 30_000 },
    async () => {
      fake.behaviour.reply = longReply;
      fake.behaviour.tokenDelayMs = 20;
      const running = await start();
      const sessionResponse = await fetch(`${running.url}/api/v1/chat/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Shutdown', mode: 'general' }),
      });
      const session = (await sessionResponse.json()) as { id: string };

      const streams = await Promise.all([
        openStream('openai', `${running.url}/v1/chat/completions`, {
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'openai turn' }],
        }),
        openStream('stream-v2', `${running.url}/api/v2/ai/chat/stream`, { message: 'stream-v2 turn', sessionId: 'shutdown' }),
        openStream('chat-sessions', `${running.url}/api/v1/chat/messages?stream=true`, {
          session_id: session.id,
          content: 'chat-sessions turn',
        }),
      ]);
      const jsonChat = fetch(`${running.url}/api/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'ai-module turn' }),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: { code?: string } } }));
      const assistant = await socketTo('/ai');
      const socketError = new Promise<{ code?: string; requestId?: string }>((resolve) => assistant.on('ai_error', resolve));
      let socketChunks = 0;
      assistant.on('ai_stream_chunk', () => (socketChunks += 1));
      assistant.emit('ai_request', { requestId: 'shutdown-1', prompt: 'assistant turn', stream: true });
      await Promise.all(streams.map((stream) => stream.firstEvent));
      await expect.poll(() => socketChunks).toBeGreaterThan(2);

      const { code, elapsedMs } = await terminate(running);
      expect(code).toBe(0);
      expect(elapsedMs).toBeGreaterThanOrEqual(graceMs - 100);
      expect(elapsedMs).toBeLessThan(graceMs + 1_000);

      const outcomes = await Promise.all(streams.map((stream) => stream.outcome));
      for (const outcome of outcomes) {
        expect(outcome.ending, outcome.surface).toBe('end');
        const last = outcome.events.at(-1)!;
        // Each surface's own error event: OpenAI's { error }, seed 003's { error, code }, seed 002's { type: 'error' }.
        const code = (last.error as { code?: string } | undefined)?.code ?? last.code;
        expect(code, `${outcome.surface}: ${JSON.stringify(last)}`).toBe('service_unavailable');
      }
      expect(await jsonChat).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
      expect(await socketError).toMatchObject({ code: 'service_unavailable', requestId: 'shutdown-1' });

      const database = new Database(file.path, { readonly: true });
      try {
        const replies = database.prepare("select status, content from messages where role = 'assistant'").all() as {
          status: string;
          content: string;
        }[];
        expect(replies).toHaveLength(5);
        for (const reply of replies) {
          expect(reply.status).toBe('interrupted');
          expect(reply.content.length).toBeGreaterThan(0);
          expect(longReply.startsWith(reply.content)).toBe(true);
        }
      } finally {
        database.close();
      }
    },
  );
});
