/**
 * Several Parley processes as a deployment runs them: one Postgres database,
 * one Redis, one JWT secret, behind nginx with the shipped config. Every
 * instance can also be reached directly, so a test can write through one
 * and read through another. The run owns its data: a database it creates
 * and drops, and a Redis key prefix it removes.
 */
import { FakeUpstream } from '../support/fake-upstream.js';
import { spawnParley, type ParleyProcess } from '../support/parley-process.js';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import { createPostgresDatabase, redisUrl, type TemporaryPostgresDatabase } from '../support/services.js';
import { testJwtSecret } from '../support/tokens.js';
import { startNginx, type NginxProcess } from './nginx-process.js';

export interface Cluster {
  /** nginx, the address clients use. */
  url: string;
  /** Each instance's own address, in start order (A, B, C). */
  instances: ParleyProcess[];
  /** The OpenAI and Anthropic every instance answers with. */
  fake: FakeUpstream;
  nginx: NginxProcess;
  close(): Promise<void>;
}

/** What each instance's environment holds besides PORT and HOST. */
function instanceEnvironment(database: TemporaryPostgresDatabase, redis: RedisTestPrefix, fake: FakeUpstream): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    // The BullMQ queue's keys and the shared rate limits, reply slots and budgets, under the run's prefix.
    JOB_QUEUE_PREFIX: redis.prefix,
    RATE_LIMIT_REDIS_PREFIX: `${redis.prefix}:rate`,
    // The turn logs, their stop channel and Socket.IO's adapter stream.
    TURN_REDIS_PREFIX: redis.prefix,
    JWT_SECRET: testJwtSecret,
    // Behind nginx: the client's address is in X-Forwarded-For.
    TRUST_PROXY: 'true',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
  };
}

/** `extra`: settings every instance gets on top (a suite's shorter heartbeat, say). */
export async function startCluster(size = 3, extra: Record<string, string> = {}): Promise<Cluster> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const fake = await FakeUpstream.start();
    closers.push(() => fake.close());
    const database = await createPostgresDatabase();
    closers.push(() => database.drop());
    const redis = redisTestPrefix();
    closers.push(() => redis.remove());
    const env = { ...instanceEnvironment(database, redis, fake), ...extra };
    // The first instance migrates the empty database alone; the others then find it current.
    const first = await spawnParley(env);
    closers.push(() => first.kill());
    const others = await Promise.allSettled(Array.from({ length: size - 1 }, () => spawnParley(env)));
    for (const started of others) if (started.status === 'fulfilled') closers.push(() => started.value.kill());
    const failed = others.find((started) => started.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const instances = [first, ...others.map((started) => (started as PromiseFulfilledResult<ParleyProcess>).value)];
    const nginx = await startNginx(instances.map((instance) => new URL(instance.url).host));
    closers.push(() => nginx.stop());
    return { url: nginx.url, instances, fake, nginx, close };
  } catch (error) {
    await close();
    throw error;
  }
}
