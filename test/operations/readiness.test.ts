import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuttableRelay } from '../support/cuttable-relay.js';
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

const servicesAvailable = (await requireService('Postgres', () => checkPostgres())) && (await requireService('Redis', () => checkRedis()));

interface ReadyAnswer {
  status: number;
  body: { status: string; draining?: boolean; down?: string[] };
}

async function ready(server: TestServer): Promise<ReadyAnswer> {
  const response = await fetch(`${server.url}/ready`);
  return { status: response.status, body: (await response.json()) as ReadyAnswer['body'] };
}

/**
 * GET /ready against the real Postgres and Redis, each reached through a
 * relay the test cuts and restores: it names what is down, within its
 * timeout, and is ready again once the dependency returns, without a
 * restart. /health (liveness) is not affected by Redis.
 */
describe.skipIf(!servicesAvailable)('readiness: GET /ready', () => {
  let fake: FakeUpstream;
  let postgresRelay: CuttableRelay;
  let redisRelay: CuttableRelay;
  let schema: TemporaryPostgresSchema;
  let keys: RedisTestPrefix;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    const postgres = new URL(postgresUrl());
    const redis = new URL(redisUrl());
    postgresRelay = await CuttableRelay.start({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    redisRelay = await CuttableRelay.start({ host: redis.hostname, port: Number(redis.port || 6379) });
    const relayedPostgres = new URL(postgresUrl());
    relayedPostgres.port = String(postgresRelay.port);
    schema = await createPostgresSchema();
    keys = redisTestPrefix();
    server = await startTestServer({
      postgres: { url: relayedPostgres.href, schema: schema.schema },
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        DATABASE_TIMEOUT_MS: '500',
        REDIS_URL: `redis://127.0.0.1:${redisRelay.port}`,
        JOB_QUEUE_PREFIX: keys.prefix,
        RATE_LIMIT_REDIS_PREFIX: keys.prefix,
        TURN_REDIS_PREFIX: keys.prefix,
      },
    });
  });

  afterAll(async () => {
    postgresRelay?.restore();
    redisRelay?.restore();
    await server?.close();
    await Promise.all([postgresRelay?.close(), redisRelay?.close()]);
    await schema?.drop();
    await keys?.remove();
    await fake?.close();
  });

  it('is ready when the database and Redis answer', async () => {
    expect(await ready(server)).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('answers 503 naming Redis while Redis is cut, and is ready again once it returns; liveness stays up', async () => {
    redisRelay.cut();
    await expect
      .poll(() => ready(server), { timeout: 5_000 })
      .toEqual({
        status: 503,
        body: { status: 'unavailable', draining: false, down: ['redis'] },
      });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    redisRelay.restore();
    await expect.poll(() => ready(server), { timeout: 10_000, interval: 200 }).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('answers 503 naming the database while Postgres is cut, within its timeout, and recovers', async () => {
    postgresRelay.cut();
    const startedAt = performance.now();
    await expect
      .poll(() => ready(server), { timeout: 5_000 })
      .toEqual({
        status: 503,
        body: { status: 'unavailable', draining: false, down: ['database'] },
      });
    expect(performance.now() - startedAt).toBeLessThan(4_000);

    postgresRelay.restore();
    await expect.poll(() => ready(server), { timeout: 10_000, interval: 200 }).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('answers within its timeout, naming Redis, while Redis hangs without closing the connection', async () => {
    redisRelay.stall();
    try {
      const startedAt = performance.now();
      const answer = await ready(server);
      expect(performance.now() - startedAt).toBeLessThan(2_500);
      expect(answer).toEqual({ status: 503, body: { status: 'unavailable', draining: false, down: ['redis'] } });
    } finally {
      redisRelay.resume();
    }
    await expect.poll(() => ready(server), { timeout: 10_000, interval: 200 }).toEqual({ status: 200, body: { status: 'ready' } });
  });
});
