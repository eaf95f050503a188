import { setTimeout } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CuttableRelay } from '../support/cuttable-relay.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serverBehindRedisRelay, type ServerBehindRedisRelay } from '../support/redis-relay-server.js';
import { checkRedis, requireService } from '../support/services.js';
import type { TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const redisAvailable = await requireService('Redis', () => checkRedis());

/**
 * Redis going away under a running server (REDIS_URL set): seed 001's job
 * endpoints answer 503 service_unavailable instead of failing as a bug,
 * chat goes on (rate limits count in memory meanwhile), and jobs work again
 * once Redis is back.
 */
describe.skipIf(!redisAvailable)('a Redis outage', () => {
  let fake: FakeUpstream;
  let behindRelay: ServerBehindRedisRelay;
  let relay: CuttableRelay;
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // A limit no test here reaches: under a loaded CI run the in-memory fallback's count once refused a chat with 429.
    behindRelay = await serverBehindRedisRelay(fake, { JWT_SECRET: testJwtSecret, RATE_LIMIT_AI_MODULE: '1000/60' });
    ({ relay, server } = behindRelay);
    token = await signToken('alice');
  });
  afterAll(async () => {
    await behindRelay?.close();
    await fake?.close();
  });

  function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${server.url}/api/v1/ai${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  it('answers 503 service_unavailable on the job endpoints while Redis is unreachable, and recovers', async () => {
    const queued = await call('POST', '/jobs/completions', { message: 'Before the outage' });
    expect(queued.status).toBe(202);
    const { jobId } = (await queued.json()) as { jobId: string };

    relay.cut();
    for (const [method, path, body] of [
      ['POST', '/jobs/completions', { message: 'During the outage' }],
      ['GET', `/jobs/${jobId}`, undefined],
      ['GET', '/jobs', undefined],
    ] as const) {
      const response = await call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(503);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('service_unavailable');
      expect(error.message).toMatch(/job queue is unavailable/);
    }

    // Rate limits fall back to counting in memory: chat itself is not refused.
    const chat = await call('POST', '/chat', { message: 'Still there?' });
    expect(chat.status).toBe(200);

    relay.restore();
    await expect
      .poll(async () => (await call('POST', '/jobs/completions', { message: 'After the outage' })).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(202);
    const job = await call('GET', `/jobs/${jobId}`);
    expect(job.status).toBe(200);
  });

  it('goes on answering chat, and answers 503 for jobs, when Redis stops answering without closing the connection', async () => {
    relay.stall();
    try {
      const chat = await call('POST', '/chat', { message: 'Anyone there?' });
      expect(chat.status).toBe(200);
      const jobs = await call('GET', '/jobs');
      expect(jobs.status).toBe(503);
      expect(((await jobs.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
    } finally {
      relay.resume();
    }
    expect((await call('POST', '/chat', { message: 'And now?' })).status).toBe(200);
  });

  it('streams a turn while Redis is unreachable; a resume or stop that needs another instance answers 503, then works again', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    relay.cut();
    try {
      const streamed = await fetch(`${server.url}/api/v2/ai/chat/stream`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ message: 'During the outage', sessionId: 'outage' }),
      });
      expect(streamed.status).toBe(200);
      expect(await streamed.text()).toContain('"done":true');
      // A turn this instance does not run may be another's: only Redis knows.
      const resumed = await fetch(`${server.url}/api/v2/ai/chat/stream/elsewhere?after=0`, { headers });
      expect(resumed.status).toBe(503);
      expect(((await resumed.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
      const stopped = await fetch(`${server.url}/api/v2/ai/chat/stream/elsewhere/stop`, { method: 'POST', headers });
      expect(stopped.status).toBe(503);
    } finally {
      relay.restore();
    }
    await expect
      .poll(async () => (await fetch(`${server.url}/api/v2/ai/chat/stream/elsewhere?after=0`, { headers })).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(404);
  });

  it('shuts down while Redis is unreachable instead of waiting for it forever', async () => {
    const doomed = await serverBehindRedisRelay(fake);
    try {
      doomed.relay.cut();
      // Long enough for the worker's connections to be waiting between reconnection attempts.
      await setTimeout(500);
      // BullMQ's own graceful close would wait here until Redis came back (bullmq#4656).
      const closed = await Promise.race([doomed.server.close().then(() => 'closed'), setTimeout(10_000, 'still waiting')]);
      expect(closed).toBe('closed');
    } finally {
      await doomed.close();
    }
  });
});
