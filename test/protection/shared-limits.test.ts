import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import { checkRedis, redisUrl, requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const redisAvailable = await requireService('Redis (127.0.0.1:6379)', () => checkRedis());

/**
 * Two Parley instances behind one Redis, as a deployment of several
 * machines runs: a user's limits hold across both, whichever instance each
 * request lands on.
 */
describe.skipIf(!redisAvailable)('limits shared by several instances through Redis', () => {
  let fake: FakeUpstream;
  let keys: RedisTestPrefix;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    keys = redisTestPrefix();
    const env = {
      JWT_SECRET: testJwtSecret,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      REDIS_URL: redisUrl(),
      RATE_LIMIT_REDIS_PREFIX: keys.prefix,
      JOB_QUEUE_PREFIX: keys.prefix,
      MAX_CONCURRENT_TURNS_PER_USER: '1',
      RATE_LIMIT_AI_MODULE: '3/60',
    };
    [first, second] = await Promise.all([startTestServer({ env }), startTestServer({ env })]);
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await fake?.close();
    await keys?.remove();
  });

  async function complete(server: TestServer, user: string): Promise<Response> {
    return fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken(user)}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] }),
    });
  }

  it("refuses a user's second concurrent reply on the other instance, and frees the slot when the first ends", async () => {
    fake.behaviour = { ...fake.behaviour, reply: 'a slow reply of several words', tokenDelayMs: 80 };
    const running = complete(first, 'dana');
    await expect.poll(() => fake.requests.length).toBe(1);

    const refused = await complete(second, 'dana');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('concurrency_limited');
    // Another user is not affected.
    fake.behaviour = { ...fake.behaviour, tokenDelayMs: 0 };
    expect((await complete(second, 'eli')).status).toBe(200);

    expect((await running).status).toBe(200);
    expect((await complete(second, 'dana')).status).toBe(200);
  });

  it("counts a user's requests on both instances against one rate limit", async () => {
    const post = (server: TestServer, token: string) =>
      fetch(`${server.url}/api/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ message: 'hi' }),
      });
    const token = await signToken('fay');
    expect((await post(first, token)).status).toBe(200);
    expect((await post(second, token)).status).toBe(200);
    expect((await post(first, token)).status).toBe(200);
    const refused = await post(second, token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
  });
});
