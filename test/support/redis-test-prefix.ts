import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './services.js';

export interface RedisTestPrefix {
  /** A key prefix no other run uses: pass it as the queue's prefix (JOB_QUEUE_PREFIX). */
  prefix: string;
  /** Every key under the prefix, for checks. */
  keys(): Promise<string[]>;
  /** Deletes every key under the prefix: the queue's, its jobs' and the owner indexes. */
  remove(): Promise<void>;
}

/** Tests own their Redis data: each run works under a fresh prefix and removes it after. */
export function redisTestPrefix(): RedisTestPrefix {
  const prefix = `parley-test-${randomBytes(6).toString('hex')}`;
  const withRedis = async <T>(work: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  };
  const keys = () =>
    withRedis(async (redis) => {
      const found: string[] = [];
      for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) found.push(...(batch as string[]));
      return found;
    });
  return {
    prefix,
    keys,
    async remove() {
      const found = await keys();
      if (found.length > 0) await withRedis((redis) => redis.del(...found));
    },
  };
}
