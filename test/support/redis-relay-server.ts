import { CuttableRelay } from './cuttable-relay.js';
import type { FakeUpstream } from './fake-upstream.js';
import { redisTestPrefix, type RedisTestPrefix } from './redis-test-prefix.js';
import { redisUrl } from './services.js';
import { startTestServer, type TestServer } from './test-server.js';

/** A Parley whose Redis is reached through a relay the test can cut or stall, with a key prefix of its own. */
export interface ServerBehindRedisRelay {
  relay: CuttableRelay;
  server: TestServer;
  keys: RedisTestPrefix;
  /** Closes the server and the relay, and removes the run's Redis keys. */
  close(): Promise<void>;
}

export async function serverBehindRedisRelay(fake: FakeUpstream, env: Record<string, string> = {}): Promise<ServerBehindRedisRelay> {
  const redis = new URL(redisUrl());
  const relay = await CuttableRelay.start({ host: redis.hostname, port: Number(redis.port || 6379) });
  const keys = redisTestPrefix();
  const server = await startTestServer({
    env: {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      JOB_QUEUE_PREFIX: keys.prefix,
      RATE_LIMIT_REDIS_PREFIX: keys.prefix,
      TURN_REDIS_PREFIX: keys.prefix,
      ...env,
    },
  });
  // Closing twice (a test that closes the server itself, then the cleanup) closes once.
  let closing: Promise<void> | undefined;
  const closeServer = () => (closing ??= server.close());
  return {
    relay,
    keys,
    server: { ...server, close: closeServer },
    async close() {
      relay.restore();
      relay.resume();
      await closeServer();
      await relay.close();
      await keys.remove();
    },
  };
}
