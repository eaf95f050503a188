import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import { checkRedis, redisUrl, requireService } from '../support/services.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const redisAvailable = await requireService('Redis (127.0.0.1:6379)', () => checkRedis());

/** Runs the same limits against the in-memory counters and against the real Redis. */
const stores: { name: string; redis: boolean; skip: boolean }[] = [
  { name: 'in memory', redis: false, skip: false },
  { name: 'on Redis', redis: true, skip: !redisAvailable },
];

for (const { name, redis, skip } of stores) {
  describe.skipIf(skip)(`rate limits ${name}`, () => {
    let fake: FakeUpstream;
    let server: TestServer;
    let prefix: RedisTestPrefix | undefined;

    beforeAll(async () => {
      fake = await FakeUpstream.start();
      prefix = redis ? redisTestPrefix() : undefined;
      server = await startTestServer({
        env: {
          JWT_SECRET: testJwtSecret,
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: fake.openaiBaseUrl,
          ANTHROPIC_API_KEY: 'sk-ant-test',
          ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
          ...(prefix === undefined
            ? {}
            : { REDIS_URL: redisUrl(), RATE_LIMIT_REDIS_PREFIX: prefix.prefix, JOB_QUEUE_PREFIX: prefix.prefix }),
        },
      });
    });
    afterAll(async () => {
      await server.close();
      await fake.close();
      await prefix?.remove();
    });

    async function post(path: string, body: unknown, token?: string): Promise<Response> {
      return fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
    }

    it('gives seed 001 twenty chat requests a minute per user, then 429 with Retry-After', async () => {
      const token = await signToken('chatty');
      for (let request = 1; request <= 20; request += 1) {
        expect((await post('/api/v1/ai/chat', { message: `question ${request}` }, token)).status, `request ${request}`).toBe(200);
      }
      const refused = await post('/api/v1/ai/chat', { message: 'one more' }, token);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      // Embeddings have a budget of their own, and other users are not affected.
      expect((await post('/api/v1/ai/embeddings', { text: 'hello' }, token)).status).toBe(200);
      expect((await post('/api/v1/ai/chat', { message: 'hi' }, await signToken('quiet'))).status).toBe(200);
    });

    it('gives seed 002 120 messages a minute per user, then 429', async () => {
      const token = await signToken('prolific');
      const created = await post('/api/v1/chat/sessions', { title: 'New Chat', mode: 'general' }, token);
      const session = (await created.json()) as { id: string };
      for (let message = 1; message <= 120; message += 1) {
        const response = await post('/api/v1/chat/messages', { session_id: session.id, content: `message ${message}` }, token);
        expect(response.status, `message ${message}`).toBe(200);
      }
      const refused = await post('/api/v1/chat/messages', { session_id: session.id, content: 'one more' }, token);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).not.toBeNull();
    });

    it('gives a seed 003 guest 20 requests across SSE and sockets together, counted by address', async () => {
      const socket = await connect(server.url);
      try {
        for (let request = 1; request <= 10; request += 1) {
          const response = await post('/api/v2/ai/chat/stream', { message: `sse ${request}` });
          expect(response.status, `sse ${request}`).toBe(200);
          await response.text();
          // A new socket each time: a guest cannot reset the budget by reconnecting.
          const fresh = await connect(server.url);
          expect(await chatOnce(fresh, `socket ${request}`), `socket ${request}`).toMatchObject({ complete: true });
          fresh.close();
        }
        const refusedSse = await post('/api/v2/ai/chat/stream', { message: 'one more' });
        expect(refusedSse.status).toBe(429);
        expect(refusedSse.headers.get('retry-after')).not.toBeNull();
        const refusedSocket = await chatOnce(socket, 'one more');
        expect(refusedSocket).toMatchObject({ complete: false, error: { code: 'rate_limited' } });
        expect((refusedSocket as { error: { retryAfter: number } }).error.retryAfter).toBeGreaterThan(0);
      } finally {
        socket.close();
      }
    });

    it('gives a signed-in seed 003 user 100 requests across SSE and sockets together', async () => {
      const token = await signToken('streamer');
      const socket = await connect(server.url);
      try {
        for (let request = 1; request <= 50; request += 1) {
          const response = await post('/api/v2/ai/chat/stream', { message: `sse ${request}`, sessionId: 'mine' }, token);
          expect(response.status, `sse ${request}`).toBe(200);
          await response.text();
          expect(await chatOnce(socket, `socket ${request}`, token), `socket ${request}`).toMatchObject({ complete: true });
        }
        expect(await chatOnce(socket, 'one more', token)).toMatchObject({ complete: false, error: { code: 'rate_limited' } });
        expect((await post('/api/v2/ai/chat/stream', { message: 'one more' }, token)).status).toBe(429);
      } finally {
        socket.close();
      }
    });
  });
}

async function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

type ChatOutcome = { complete: true } | { complete: false; error: { code: string; retryAfter?: number } };

function chatOnce(socket: Socket, message: string, token?: string): Promise<ChatOutcome> {
  return new Promise((resolve) => {
    const finish = (outcome: ChatOutcome) => {
      socket.off('ai:complete', onComplete);
      socket.off('ai:error', onError);
      resolve(outcome);
    };
    const onComplete = () => finish({ complete: true });
    const onError = (error: { code: string; retryAfter?: number }) => finish({ complete: false, error });
    socket.on('ai:complete', onComplete);
    socket.on('ai:error', onError);
    socket.emit('ai:chat', { message, ...(token === undefined ? {} : { token }) });
  });
}
