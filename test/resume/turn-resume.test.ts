import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { expectChatResumedOnNewSocket, expectEveryChunkAcrossACut } from './socket-resume.js';
import { readEvents, type SseEvent } from './sse-resume.js';

/** Long enough to drop a client in the middle: 40 words, 40 ms apart. */
const reply = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
const slowly = { reply, tokenDelayMs: 40 };

/**
 * Turns outlive their connection (single process, SQLite, no Redis): a
 * client that drops mid-reply and comes back gets the whole reply exactly
 * once, on every streaming surface, and the reply is stored complete.
 */
describe('resuming a turn after the client dropped', () => {
  let harness: UpstreamHarness;
  let alice: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, PROVIDER_MAX_RETRIES: '0', REPLY_CHECKPOINT_MS: '100' });
    alice = `Bearer ${await signToken('alice')}`;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
    harness.fake.reset();
  });
  afterAll(() => harness.close());

  const url = (path: string) => `${harness.server.url}${path}`;
  const json = { 'content-type': 'application/json' };

  /** The reply's status, read the way a client does: the conversation's messages over REST. */
  async function replyStatus(conversationId: string): Promise<{ status: string; content: string } | undefined> {
    const { items } = await harness.server.app.store.listMessages('alice', conversationId, { page: 1, limit: 10 });
    const last = items.at(-1);
    return last?.role === 'assistant' ? { status: last.status, content: last.content } : undefined;
  }

  const textOf = (events: SseEvent[], pick: (data: any) => string | undefined) =>
    events
      .map((event) => (event.data.startsWith('{') ? pick(JSON.parse(event.data)) : undefined))
      .filter((text): text is string => text !== undefined)
      .join('');

  /** A new seed 002 session and a streamed message in it; `drop` cuts the stream as a lost network does. */
  async function streamInNewSession(): Promise<{ session: { id: string }; drop: AbortController; response: Response }> {
    const headers = { ...json, authorization: alice };
    const session = (await (await fetch(url('/api/v1/chat/sessions'), { method: 'POST', headers, body: '{}' })).json()) as { id: string };
    const drop = new AbortController();
    const response = await fetch(url('/api/v1/chat/messages?stream=true'), {
      method: 'POST',
      headers,
      body: JSON.stringify({ session_id: session.id, content: 'go' }),
      signal: drop.signal,
    });
    return { session, drop, response };
  }

  it('/v1/chat/completions with X-Parley-Resumable: GET …/stream with Last-Event-ID sends the rest, once, and the reply is stored complete', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const drop = new AbortController();
    const first = await fetch(url('/v1/chat/completions'), {
      method: 'POST',
      headers: { ...json, authorization: alice, 'x-parley-resumable': 'true' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true }),
      signal: drop.signal,
    });
    const turnId = first.headers.get('x-parley-turn-id');
    expect(turnId).toBeTruthy();
    const before = await readEvents(first, (events) => events.length >= 6, drop);
    expect(before.lastId).toBeGreaterThan(0);

    const resumed = await fetch(url(`/v1/chat/completions/chatcmpl-${turnId}/stream`), {
      headers: { authorization: alice, 'last-event-id': String(before.lastId) },
    });
    expect(resumed.status).toBe(200);
    const after = await readEvents(resumed);
    expect(after.events.at(-1)!.data).toBe('[DONE]');
    expect(after.events.every((event, index) => index === after.events.length - 1 || event.id! > before.lastId)).toBe(true);
    const pick = (chunk: any) => chunk.choices?.[0]?.delta?.content;
    expect(textOf(before.events, pick) + textOf(after.events, pick)).toBe(reply);
  });

  it('/v1/chat/completions without it still aborts at once when the client goes', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const drop = new AbortController();
    const first = await fetch(url('/v1/chat/completions'), {
      method: 'POST',
      headers: { ...json, authorization: alice },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true }),
      signal: drop.signal,
    });
    const aborted = harness.fake.waitForAborts(1, 2000);
    await readEvents(first, (events) => events.length >= 3, drop);
    await aborted;
  });

  it('seed 002: a stream dropped mid-reply goes on; GET /api/v1/chat/replies/{id}/stream resumes it and the reply ends complete', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const { session, drop, response: first } = await streamInNewSession();
    const before = await readEvents(first, (events) => events.length >= 5, drop);
    const start = JSON.parse(before.events[0]!.data) as { type: string; message_id: string };
    expect(start.type).toBe('message_start');
    expect(first.headers.get('x-parley-turn-id')).toBe(start.message_id);

    // While nobody reads it the reply goes on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const requests = harness.fake.requests.length;
    expect(harness.fake.abortedCount).toBe(0);

    const resumed = await fetch(url(`/api/v1/chat/replies/${start.message_id}/stream`), {
      headers: { authorization: alice, 'last-event-id': String(before.lastId) },
    });
    const after = await readEvents(resumed);
    const last = JSON.parse(after.events.at(-1)!.data) as { type: string; message: { content: string } };
    expect(last.type).toBe('done');
    const pick = (event: any) => (event.type === 'delta' ? event.content : undefined);
    expect(textOf(before.events, pick) + textOf(after.events, pick)).toBe(reply);
    expect(last.message.content).toBe(reply);
    expect(await replyStatus(session.id)).toEqual({ status: 'complete', content: reply });
    expect(harness.fake.requests.length).toBe(requests);
    expect(harness.fake.abortedCount).toBe(0);
  });

  it('REST reads a reply still being generated as in_progress with its text so far (seed 002 history, seed 001 conversation)', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const { session, drop, response: streaming } = await streamInNewSession();
    // The client leaves; the reply goes on.
    await readEvents(streaming, (events) => events.length >= 10, drop);
    // Past a checkpoint (every 100 ms).
    await new Promise((resolve) => setTimeout(resolve, 250));
    const history = await fetch(url(`/api/v1/chat/messages/${session.id}`), { headers: { authorization: alice } });
    const { messages } = (await history.json()) as { messages: { role: string; status: string; content: string }[] };
    expect(messages.map(({ role, status }) => ({ role, status }))).toEqual([
      { role: 'user', status: 'complete' },
      { role: 'assistant', status: 'in_progress' },
    ]);
    expect(messages[1]!.content.length).toBeGreaterThan(0);
    expect(reply.startsWith(messages[1]!.content)).toBe(true);
    // The same conversation through seed 001's API, which reads any of the user's conversations.
    const detail = await fetch(url(`/api/v1/ai/conversations/${session.id}`), { headers: { authorization: alice } });
    const { messages: shown } = (await detail.json()) as { messages: { role: string; status: string }[] };
    expect(shown.map(({ role, status }) => ({ role, status }))).toEqual([
      { role: 'USER', status: 'complete' },
      { role: 'ASSISTANT', status: 'in_progress' },
    ]);
    await expect.poll(() => replyStatus(session.id), { timeout: 5000 }).toEqual({ status: 'complete', content: reply });
  });

  it('seed 003 SSE: resumes with ?after= the turn named by X-Parley-Turn-Id; a guest names its session', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const drop = new AbortController();
    const first = await fetch(url('/api/v2/ai/chat/stream'), {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ message: 'go' }),
      signal: drop.signal,
    });
    const turnId = first.headers.get('x-parley-turn-id')!;
    const before = await readEvents(first, (events) => events.length >= 4, drop);
    const sessionId = (JSON.parse(before.events[0]!.data) as { sessionId: string }).sessionId;

    const stranger = await fetch(url(`/api/v2/ai/chat/stream/${turnId}?after=${before.lastId}`));
    expect(stranger.status).toBe(404);
    const resumed = await fetch(url(`/api/v2/ai/chat/stream/${turnId}?after=${before.lastId}&sessionId=${sessionId}`));
    const after = await readEvents(resumed);
    expect(JSON.parse(after.events.at(-1)!.data)).toEqual({ done: true, sessionId });
    const pick = (line: any) => line.content;
    expect(textOf(before.events, pick) + textOf(after.events, pick)).toBe(reply);
  });

  it('seed 001 chat:start: after a disconnect, turn:resume on a new socket sends the chunks after `after`, then chat:end', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const base = harness.server.url;
    await expectChatResumedOnNewSocket({ from: base, to: base, token: await signToken('alice'), sockets }, reply);
  });

  it('turn:resume of a turn that is not the caller’s answers not_found', async () => {
    const bob = io(url('/ai'), { auth: { token: await signToken('bob') }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(bob);
    const error = new Promise<{ code: string }>((resolve) => bob.once('chat:error', resolve));
    bob.emit('turn:resume', { turnId: 'no-such-turn', after: 0 });
    expect((await error).code).toBe('not_found');
  });

  it('seed 000: an unchanged socket.io-client that loses its network for 2 s mid-reply gets every chunk, once (connection state recovery)', async () => {
    Object.assign(harness.fake.behaviour, { reply, tokenDelayMs: 80 });
    const port = Number(new URL(harness.server.url).port);
    await expectEveryChunkAcrossACut({ from: { host: '127.0.0.1', port }, cutMs: 2000, token: await signToken('alice'), sockets }, reply);
  }, 20_000);

  it('a stop endpoint aborts the upstream at once and the reply is stored interrupted', async () => {
    Object.assign(harness.fake.behaviour, slowly);
    const drop = new AbortController();
    const first = await fetch(url('/api/v2/ai/chat/stream'), {
      method: 'POST',
      headers: { ...json, authorization: alice },
      body: JSON.stringify({ message: 'go', sessionId: 'stop-me' }),
      signal: drop.signal,
    });
    const turnId = first.headers.get('x-parley-turn-id')!;
    const aborted = harness.fake.waitForAborts(1, 2000);
    const reading = readEvents(first);
    const stop = await fetch(url(`/api/v2/ai/chat/stream/${turnId}/stop`), { method: 'POST', headers: { authorization: alice } });
    expect(stop.status).toBe(202);
    await aborted;
    await reading;
    // Stopping it again says it had ended; another user's stop finds nothing.
    const again = await fetch(url(`/api/v2/ai/chat/stream/${turnId}/stop`), { method: 'POST', headers: { authorization: alice } });
    expect(await again.json()).toEqual({ stopped: false });
    const bob = `Bearer ${await signToken('bob')}`;
    const stranger = await fetch(url(`/api/v2/ai/chat/stream/${turnId}/stop`), { method: 'POST', headers: { authorization: bob } });
    expect(stranger.status).toBe(404);
  });
});

describe('a turn nobody comes back for', () => {
  it('is aborted after TURN_DETACH_SECONDS and stored interrupted with what was produced', async () => {
    const harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, TURN_DETACH_SECONDS: '0.3' });
    try {
      Object.assign(harness.fake.behaviour, { reply, tokenDelayMs: 100 });
      const alice = `Bearer ${await signToken('alice')}`;
      const drop = new AbortController();
      const first = await fetch(`${harness.server.url}/api/v2/ai/chat/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: alice },
        body: JSON.stringify({ message: 'go', sessionId: 'left' }),
        signal: drop.signal,
      });
      const leftAt = performance.now();
      const aborted = harness.fake.waitForAborts(1, 3000);
      await readEvents(first, (events) => events.length >= 2, drop);
      await aborted;
      const waited = performance.now() - leftAt;
      expect(waited).toBeGreaterThan(250);
      expect(waited).toBeLessThan(2000);
      const { items } = await harness.server.app.store.listConversations('alice', 'stream-v2', { page: 1, limit: 1 });
      await expect
        .poll(async () => {
          const messages = await harness.server.app.store.listMessages('alice', items[0]!.id, { page: 1, limit: 10 });
          return messages.items.at(-1)?.status;
        })
        .toBe('interrupted');
    } finally {
      await harness.close();
    }
  });
});
