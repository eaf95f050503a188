/**
 * Turns across instances (three Parley processes on one Postgres and one
 * Redis, behind nginx): a client that dropped mid-reply on instance A
 * resumes through another and gets the whole reply exactly once; a stop
 * sent to B aborts the upstream stream A runs; and when A is killed
 * mid-reply the resuming client gets a last interrupted event while the
 * store holds the partial reply as interrupted.
 */
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectChatResumedOnNewSocket, expectEveryChunkAcrossACut } from '../resume/socket-resume.js';
import { readEvents, type SseEvent } from '../resume/sse-resume.js';
import { checkPostgres, checkRedis, requireService } from '../support/services.js';
import { signToken } from '../support/tokens.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { checkNginx } from './nginx-process.js';

const available =
  (await requireService('PostgreSQL', () => checkPostgres())) &&
  (await requireService('Redis', () => checkRedis())) &&
  (await requireService('nginx', checkNginx));

/** Long enough to drop a client in the middle: 40 words, 40 ms apart. */
const reply = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');

const textOf = (events: SseEvent[], pick: (data: any) => string | undefined) =>
  events
    .map((event) => (event.data.startsWith('{') ? pick(JSON.parse(event.data)) : undefined))
    .filter((text): text is string => text !== undefined)
    .join('');

/** Every event after the first batch carries a later id than the last one the client had, in order. */
function expectContinues(after: SseEvent[], lastId: number): void {
  const ids = after.map((event) => event.id).filter((id): id is number => id !== undefined);
  expect(ids[0]).toBe(lastId + 1);
  expect(ids).toEqual([...ids].sort((left, right) => left - right));
  expect(new Set(ids).size).toBe(ids.length);
}

describe.skipIf(!available)('turns across instances behind nginx', () => {
  let cluster: Cluster;
  let token: string;
  const sockets: Socket[] = [];
  const json = { 'content-type': 'application/json' };
  const authorized = () => ({ ...json, authorization: `Bearer ${token}` });

  beforeAll(async () => {
    cluster = await startCluster(3, {
      // A short heartbeat: a killed instance's replies are swept within a second or two.
      INSTANCE_HEARTBEAT_MS: '300',
      REPLY_CHECKPOINT_MS: '100',
      PROVIDER_MAX_RETRIES: '0',
      // Shorter than the slow replies below: A keeps a turn its client left only because a client reads it elsewhere.
      TURN_DETACH_SECONDS: '3',
    });
    token = await signToken('cluster-turns-user');
  });
  beforeEach(() => {
    Object.assign(cluster.fake.behaviour, { reply, tokenDelayMs: 40 });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('/v1 SSE: dropped on A, resumed on C and through nginx with Last-Event-ID: the rest once, in order, for longer than A would keep it alone', async () => {
    const [a, , c] = cluster.instances;
    // 4 s: A's client leaves at about 0.5 s, so A alone would abort it at 3.5 s.
    cluster.fake.behaviour.tokenDelayMs = 100;
    const drop = new AbortController();
    const first = await fetch(`${a!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...authorized(), 'x-parley-resumable': 'true' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go' }], stream: true }),
      signal: drop.signal,
    });
    const turnId = first.headers.get('x-parley-turn-id')!;
    const before = await readEvents(first, (events) => events.length >= 6, drop);
    const pick = (chunk: any) => chunk.choices?.[0]?.delta?.content;
    for (const url of [c!.url, cluster.url]) {
      const resumed = await fetch(`${url}/v1/chat/completions/chatcmpl-${turnId}/stream`, {
        headers: { authorization: `Bearer ${token}`, 'last-event-id': String(before.lastId) },
      });
      expect(resumed.status, url).toBe(200);
      const after = await readEvents(resumed);
      expect(after.events.at(-1)!.data).toBe('[DONE]');
      expectContinues(after.events, before.lastId);
      expect(textOf(before.events, pick) + textOf(after.events, pick), url).toBe(reply);
    }
  });

  it('seed 003 SSE: dropped on A, resumed on C and through nginx with ?after=: the rest once, ending with done', async () => {
    const [a, , c] = cluster.instances;
    const drop = new AbortController();
    const first = await fetch(`${a!.url}/api/v2/ai/chat/stream`, {
      method: 'POST',
      headers: authorized(),
      body: JSON.stringify({ message: 'go', sessionId: 'moving' }),
      signal: drop.signal,
    });
    const turnId = first.headers.get('x-parley-turn-id')!;
    const before = await readEvents(first, (events) => events.length >= 4, drop);
    for (const url of [c!.url, cluster.url]) {
      const resumed = await fetch(`${url}/api/v2/ai/chat/stream/${turnId}?after=${before.lastId}`, { headers: authorized() });
      expect(resumed.status, url).toBe(200);
      const after = await readEvents(resumed);
      expect(JSON.parse(after.events.at(-1)!.data)).toEqual({ done: true, sessionId: 'moving' });
      expectContinues(after.events, before.lastId);
      expect(textOf(before.events, (line) => line.content) + textOf(after.events, (line) => line.content), url).toBe(reply);
    }
    // Another user finds nothing there.
    const stranger = `Bearer ${await signToken('someone-else')}`;
    const refused = await fetch(`${c!.url}/api/v2/ai/chat/stream/${turnId}?after=0`, { headers: { authorization: stranger } });
    expect(refused.status).toBe(404);
  });

  it('seed 001 Socket.IO: chat:start on A, the socket drops, turn:resume through C and through nginx sends the chunks after `after`, then chat:end', async () => {
    const [a, , c] = cluster.instances;
    await expectChatResumedOnNewSocket({ from: a!.url, to: c!.url, token, sockets }, reply);
    // Through nginx the new socket lands on the instance its address hashes to, whichever runs the turn.
    await expectChatResumedOnNewSocket({ from: a!.url, to: cluster.url, token, sockets }, reply);
  });

  it('seed 000: an unchanged socket.io-client cut off from A that comes back on C gets every chunk, once (recovery through Redis)', async () => {
    const [a, , c] = cluster.instances;
    // 4.8 s, longer than A keeps a turn whose socket dropped (3 s from about 0.4 s) unless the recovered socket holds it from C.
    cluster.fake.behaviour.tokenDelayMs = 120;
    const address = (instance: { url: string }) => ({ host: '127.0.0.1', port: Number(new URL(instance.url).port) });
    await expectEveryChunkAcrossACut({ from: address(a!), to: address(c!), cutMs: 300, token, sockets }, reply);
  }, 20_000);

  it('a stop sent to B aborts the upstream stream A runs, and A’s client gets the last interrupted event', async () => {
    const [a, b] = cluster.instances;
    const first = await fetch(`${a!.url}/api/v2/ai/chat/stream`, {
      method: 'POST',
      headers: authorized(),
      body: JSON.stringify({ message: 'go', sessionId: 'stopped-elsewhere' }),
    });
    const turnId = first.headers.get('x-parley-turn-id')!;
    const aborted = cluster.fake.waitForAborts(cluster.fake.abortedCount + 1, 3000);
    const reading = readEvents(first);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stop = await fetch(`${b!.url}/api/v2/ai/chat/stream/${turnId}/stop`, { method: 'POST', headers: authorized() });
    expect(stop.status).toBe(202);
    await aborted;
    const { events } = await reading;
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ done: true, interrupted: true, sessionId: 'stopped-elsewhere' });
    expect(textOf(events, (line) => line.content).length).toBeLessThan(reply.length);
    // Once ended, B says so; another user's stop finds nothing.
    await expect
      .poll(async () => (await fetch(`${b!.url}/api/v2/ai/chat/stream/${turnId}/stop`, { method: 'POST', headers: authorized() })).status)
      .toBe(200);
    const stranger = `Bearer ${await signToken('someone-else')}`;
    const refused = await fetch(`${b!.url}/api/v2/ai/chat/stream/${turnId}/stop`, { method: 'POST', headers: { authorization: stranger } });
    expect(refused.status).toBe(404);
  });

  // Last: it kills instance A.
  it('A killed with SIGKILL mid-reply: the user message is stored, the reply ends interrupted with its partial text, and a resuming client gets a last interrupted event', async () => {
    const [a, b, c] = cluster.instances;
    const session = (await (
      await fetch(`${b!.url}/api/v1/chat/sessions`, { method: 'POST', headers: authorized(), body: '{}' })
    ).json()) as { id: string };
    const first = await fetch(`${a!.url}/api/v1/chat/messages?stream=true`, {
      method: 'POST',
      headers: authorized(),
      body: JSON.stringify({ session_id: session.id, content: 'tell me everything' }),
    });
    expect(first.status).toBe(200);
    const turnId = first.headers.get('x-parley-turn-id')!;
    const before = await readEvents(first, (events) => events.length >= 8);
    // Past a checkpoint (every 100 ms) with text in it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a!.kill();
    const resumed = await fetch(`${c!.url}/api/v1/chat/replies/${turnId}/stream`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': String(before.lastId) },
    });
    expect(resumed.status).toBe(200);
    const after = await readEvents(resumed);
    const last = JSON.parse(after.events.at(-1)!.data) as { type: string; message: { id: string; status: string; content: string } };
    expect(last).toMatchObject({ type: 'done', message: { id: turnId, status: 'interrupted' } });
    expect(last.message.content.length).toBeGreaterThan(0);
    expect(reply.startsWith(last.message.content)).toBe(true);
    const history = await fetch(`${b!.url}/api/v1/chat/messages/${session.id}`, { headers: authorized() });
    const { messages } = (await history.json()) as { messages: { role: string; content: string; status: string }[] };
    expect(messages.map(({ role, status }) => ({ role, status }))).toEqual([
      { role: 'user', status: 'complete' },
      { role: 'assistant', status: 'interrupted' },
    ]);
    expect(messages[0]!.content).toBe('tell me everything');
    expect(messages[1]!.content).toBe(last.message.content);
  }, 20_000);
});
