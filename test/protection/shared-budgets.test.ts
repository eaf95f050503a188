import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import {
  checkPostgres,
  checkRedis,
  createPostgresSchema,
  postgresUrl,
  redisUrl,
  requireService,
  type TemporaryPostgresSchema,
} from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const servicesAvailable =
  (await requireService('Redis (127.0.0.1:6379)', () => checkRedis())) && (await requireService('PostgreSQL', () => checkPostgres()));

/**
 * Two instances on one Postgres and one Redis, as a deployment of several
 * machines runs: budget reservations are taken by a Lua script in Redis, so
 * turns of one user landing on both instances at once cannot all spend the
 * same remainder.
 */
describe.skipIf(!servicesAvailable)('token budgets shared by several instances', () => {
  // Less than one turn's cost: shared reservations admit one turn at a time, two ledgers in memory one per instance.
  const budget = 50;
  let fake: FakeUpstream;
  let keys: RedisTestPrefix;
  let schema: TemporaryPostgresSchema;
  let instances: TestServer[];

  beforeAll(async () => {
    fake = await FakeUpstream.start({ reply: Array.from({ length: 100 }, (_, index) => `w${index}`).join(' '), tokenDelayMs: 2 });
    keys = redisTestPrefix();
    schema = await createPostgresSchema();
    const env = {
      JWT_SECRET: testJwtSecret,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      REDIS_URL: redisUrl(),
      RATE_LIMIT_REDIS_PREFIX: keys.prefix,
      JOB_QUEUE_PREFIX: keys.prefix,
      TOKEN_BUDGET_LIFETIME: String(budget),
      MAX_CONCURRENT_TURNS_PER_USER: '0',
      RATE_LIMIT_DEFAULT: '1000/60',
    };
    const postgres = { url: postgresUrl(), schema: schema.schema };
    instances = [await startTestServer({ env, postgres }), await startTestServer({ env, postgres })];
  });
  afterAll(async () => {
    for (const instance of instances ?? []) await instance.close();
    await fake?.close();
    await keys?.remove();
    await schema?.drop();
  });

  it('overshoots by at most one turn when 20 turns of one user start at once on two instances', async () => {
    const authorization = `Bearer ${await signToken('pair')}`;
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const response = await fetch(`${instances[index % 2]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
        await response.text();
        return response.status;
      }),
    );
    const usage = await instances[0]!.app.store.getTokenUsage('pair');
    expect(statuses).toContain(200);
    expect(statuses.filter((status) => status !== 200).every((status) => status === 429 || status === 403)).toBe(true);
    // Each turn costs about 105 tokens; without the shared ledger each instance admits one at once, or all 20 with no ledger.
    expect(usage.lifetimeTokens).toBeLessThanOrEqual(budget + 110);
    // Every reservation was released: the user's lease set in Redis is empty.
    await expect.poll(async () => (await keys.keys()).filter((key) => key.endsWith(':budget:pair'))).toEqual([]);
  });
});
