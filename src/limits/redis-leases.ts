import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { once } from './concurrency-limiter.js';

/** What a lease script answered: granted or not, and the count it compared (slots running, tokens reserved). */
export type LeaseResult = { granted: true; count: number; release: () => void } | { granted: false; count: number };

/**
 * Leases in Redis sorted sets, scored by their expiry, shared by every
 * instance: `script` takes one in a single step (so two instances cannot both
 * take the last), ZREM gives it back, and one an instance left behind when it
 * died frees itself once its lease ends.
 * The script gets KEYS[1] the set; ARGV now, lease expiry (ms), `bound`,
 * member, key TTL (s); it returns { 1 or 0, count }.
 */
export class RedisLeases {
  private readonly redis: Redis & Record<string, (key: string, ...args: (string | number)[]) => Promise<[number, number]>>;

  constructor(
    redis: Redis,
    private readonly command: string,
    script: string,
    /** Longer than any reply can run (the provider's total timeout), so a live reply keeps its lease. */
    private readonly leaseMs: number,
    private readonly logger: Logger,
    /** Names the limit in log lines ("concurrency limit", "token budget"). */
    private readonly what: string,
  ) {
    redis.defineCommand(command, { numberOfKeys: 1, lua: script });
    this.redis = redis as RedisLeases['redis'];
  }

  /** The lease, or undefined while Redis cannot answer: the caller counts in memory meanwhile. */
  async take(key: string, member: string, bound: number): Promise<LeaseResult | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    const now = Date.now();
    let granted: number;
    let count: number;
    try {
      [granted, count] = await this.redis[this.command]!(key, now, now + this.leaseMs, bound, member, Math.ceil(this.leaseMs / 1000));
    } catch (error) {
      // A script that timed out may still run on Redis: the lease it takes then frees itself when it ends.
      this.logger.warn({ error: (error as Error).message }, `${this.what}: redis failed; counting in memory`);
      return undefined;
    }
    if (granted !== 1) return { granted: false, count };
    return {
      granted: true,
      count,
      release: once(() => {
        this.redis.zrem(key, member).catch((error: Error) => {
          // The lease expires on its own; until then it holds what it took.
          this.logger.warn({ error: error.message }, `${this.what}: could not release a lease`);
        });
      }),
    };
  }
}
