import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { LocalConcurrencyLimiter, once, type ConcurrencyLimiter, type SlotResult } from './concurrency-limiter.js';

/**
 * Takes a slot in one step, so two instances admitting the same user at the
 * same moment cannot both take the last one. Each slot is a lease in a sorted
 * set scored by its expiry: a slot whose instance died without releasing it
 * frees itself once no reply could still be running.
 * KEYS[1] the user's set; ARGV now, lease expiry (ms), limit, lease id, key TTL (s).
 * Returns { 1, running } when granted, { 0, running } when full.
 */
const takeSlotScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local running = redis.call('ZCARD', KEYS[1])
if running >= tonumber(ARGV[3]) then return {0, running} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, running + 1}
`;

type RedisWithSlots = Redis & { takeTurnSlot(key: string, ...args: (string | number)[]): Promise<[number, number]> };

/**
 * Concurrent replies per user counted in Redis, shared by every instance.
 * While Redis cannot be reached each instance counts its own replies (as the
 * rate limits do), rather than refusing every turn.
 */
export class RedisConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly redis: RedisWithSlots;
  private readonly fallback = new LocalConcurrencyLimiter();

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    /** Longer than any reply can run (the provider's total timeout), so a live reply never loses its slot. */
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    redis.defineCommand('takeTurnSlot', { numberOfKeys: 1, lua: takeSlotScript });
    this.redis = redis as RedisWithSlots;
  }

  async acquire(userId: string, limit: number): Promise<SlotResult> {
    if (this.redis.status !== 'ready') return this.fallback.acquireNow(userId, limit);
    const key = `${this.keyPrefix}:replies:${userId}`;
    const lease = randomUUID();
    const now = Date.now();
    let granted: number;
    let running: number;
    try {
      [granted, running] = await this.redis.takeTurnSlot(key, now, now + this.leaseMs, limit, lease, Math.ceil(this.leaseMs / 1000));
    } catch (error) {
      // A script that timed out may still run on Redis: the slot it takes then frees itself when its lease ends.
      this.logger.warn({ error: (error as Error).message }, 'concurrency limit: redis failed; counting in memory');
      return this.fallback.acquireNow(userId, limit);
    }
    if (granted !== 1) return { granted: false, running };
    return {
      granted: true,
      release: once(() => {
        this.redis.zrem(key, lease).catch((error: Error) => {
          // The lease expires on its own; until then it holds one slot too many.
          this.logger.warn({ error: error.message }, 'concurrency limit: could not release a slot');
        });
      }),
    };
  }
}
