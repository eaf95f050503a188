import { Agent } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import type { EventLoopWindow } from './event-loop-delay.js';
import { postStream } from './http-stream.js';
import { countTokenMarksInText, type TokenMeter } from './token-meter.js';

/**
 * One way of getting a streamed reply (directly, through the byte proxy,
 * through a Parley surface). `pid` is the relay process whose CPU counts.
 */
export interface StreamTarget {
  name: string;
  pid: number | undefined;
  /** A Postgres database on this machine the relay writes to: its server's CPU is counted too. */
  postgresDatabase?: string;
  /** A Parley's event loop, whose delay is recorded over each run (see watchEventLoop). */
  eventLoop?: EventLoopWindow;
  /** Prepares `concurrency` clients; sockets connect here, outside the timing. */
  open(concurrency: number): Promise<void>;
  /** One streamed reply for client `client`; failures go to the meter. */
  stream(client: number, meter: TokenMeter): Promise<void>;
  close(): Promise<void>;
}

const OPENAI_HEADERS = { authorization: 'Bearer sk-bench' };

/** A streaming POST whose body may depend on the client (e.g. its session). */
export function httpTarget(options: {
  name: string;
  pid: number | undefined;
  url: string;
  body(client: number): string;
  headers?: Record<string, string>;
}): StreamTarget {
  const url = new URL(options.url);
  let agent = new Agent({ keepAlive: true });
  return {
    name: options.name,
    pid: options.pid,
    async open() {
      agent = new Agent({ keepAlive: true });
    },
    stream: (client, meter) => postStream(url, options.body(client), agent, meter, options.headers),
    async close() {
      agent.destroy();
    },
  };
}

/** `POST /v1/chat/completions` with stream and usage, at `baseUrl` (the fake, the proxy or Parley). */
/** `headers`: on top of the OpenAI ones (X-Parley-Resumable, say). */
export function openaiStreamTarget(
  name: string,
  pid: number | undefined,
  baseUrl: string,
  headers: Record<string, string> = {},
): StreamTarget {
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Tell me something.' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  return httpTarget({ name, pid, url: `${baseUrl}/v1/chat/completions`, body: () => body, headers: { ...OPENAI_HEADERS, ...headers } });
}

/**
 * `POST /v1/messages`, the Anthropic Messages API, streamed, at Parley's
 * `baseUrl` for `model` (an OpenAI-routed one by default: Parley translates
 * to the fake OpenAI upstream). The meter counts the marks in text_delta events.
 */
export function anthropicMessagesTarget(name: string, pid: number | undefined, baseUrl: string, model = 'gpt-4o-mini'): StreamTarget {
  const body = JSON.stringify({ model, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Tell me something.' }] });
  const headers = { 'x-api-key': 'sk-bench', 'anthropic-version': '2023-06-01' };
  return httpTarget({ name, pid, url: `${baseUrl}/v1/messages`, body: () => body, headers });
}

/**
 * `POST /v1/chat/completions` with one tool offered and `userText` as the
 * user message: the fake upstream calls the tool with
 * `{"text": userText}`, streamed as one argument fragment per whitespace
 * token (test/support/fake-tools.ts). With `userText` = benchReply(n), each
 * fragment holds one token mark, so the meter counts n tokens per stream.
 */
export function openaiToolsStreamTarget(name: string, pid: number | undefined, baseUrl: string, userText: string): StreamTarget {
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: userText }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'echo',
          description: 'Repeats the text back.',
          parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        },
      },
    ],
    stream: true,
    stream_options: { include_usage: true },
  });
  return httpTarget({ name, pid, url: `${baseUrl}/v1/chat/completions`, body: () => body, headers: OPENAI_HEADERS });
}

/** Seed 003's SSE: one session per client, continued stream after stream (its history is read each turn). */
export function streamV2SseTarget(name: string, pid: number, parleyUrl: string): StreamTarget {
  const run = Math.random().toString(36).slice(2, 8);
  const bodies = new Map<number, string>();
  const body = (client: number) => {
    let text = bodies.get(client);
    if (text === undefined)
      bodies.set(client, (text = JSON.stringify({ message: 'Tell me something.', sessionId: `bench-${run}-${client}` })));
    return text;
  };
  return httpTarget({ name, pid, url: `${parleyUrl}/api/v2/ai/chat/stream`, body });
}

/**
 * Seed 001's Socket.IO chat on `/ai`: one socket and one conversation per
 * client; `chat:start`, then `chat:message` per piece, then `chat:end`.
 */
export function aiNamespaceChatTarget(name: string, pid: number, parleyUrl: string): StreamTarget {
  let sockets: Socket[] = [];
  const conversations = new Map<number, string>();
  return {
    name,
    pid,
    async open(concurrency) {
      sockets = Array.from({ length: concurrency }, () =>
        io(`${parleyUrl}/ai`, { transports: ['websocket'], reconnection: false, autoConnect: false }),
      );
      await Promise.all(sockets.map((socket) => connect(socket)));
    },
    stream(client, meter) {
      const socket = sockets[client]!;
      return new Promise((resolve) => {
        const tracker = meter.begin();
        const onConversation = (payload: { conversationId: string }) => conversations.set(client, payload.conversationId);
        const onMessage = (payload: { content: string }) => tracker.add(countTokenMarksInText(payload.content));
        const finish = (error?: Error) => {
          socket.off('chat:conversation', onConversation).off('chat:message', onMessage);
          socket.off('chat:end', onEnd).off('chat:error', onError).off('disconnect', onDisconnect);
          if (error === undefined) tracker.done();
          else meter.fail(error);
          resolve();
        };
        const onEnd = () => finish();
        const onError = (payload: { code: string; message: string }) => finish(new Error(`chat:error ${payload.code}: ${payload.message}`));
        const onDisconnect = (reason: string) => finish(new Error(`disconnected: ${reason}`));
        socket.on('chat:conversation', onConversation).on('chat:message', onMessage);
        socket.on('chat:end', onEnd).on('chat:error', onError).on('disconnect', onDisconnect);
        socket.emit('chat:start', { message: 'Tell me something.', conversationId: conversations.get(client) ?? null });
      });
    },
    async close() {
      for (const socket of sockets) socket.disconnect();
      sockets = [];
    },
  };
}

export function connect(socket: Socket, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket did not connect in time')), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect();
  });
}
