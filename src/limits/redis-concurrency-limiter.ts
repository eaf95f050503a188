import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter, type SlotResult } from './concurrency-limiter.js';
import { RedisLeases } from './redis-leases.js';

/**
 * Each running reply is a lease; a slot is granted while fewer than the
 * limit are running. ARGV[3] is the limit. Returns { 1, running } when
 * granted, { 0, running } when full.
 */
const takeSlotScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local running = redis.call('ZCARD', KEYS[1])
if running >= tonumber(ARGV[3]) then return {0, running} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, running + 1}
`;

/**
 * Concurrent replies per user counted in Redis, shared by every instance.
 * While Redis cannot be reached each instance counts its own replies (as the
 * rate limits do), rather than refusing every turn.
 */
export class RedisConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly leases: RedisLeases;
  private readonly fallback = new LocalConcurrencyLimiter();

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    leaseMs: number,
    logger: Logger,
  ) {
    this.leases = new RedisLeases(redis, 'takeTurnSlot', takeSlotScript, leaseMs, logger, 'concurrency limit');
  }

  async acquire(userId: string, limit: number): Promise<SlotResult> {
    const taken = await this.leases.take(`${this.keyPrefix}:replies:${userId}`, randomUUID(), limit);
    if (taken === undefined) return this.fallback.acquireNow(userId, limit);
    return taken.granted ? { granted: true, release: taken.release } : { granted: false, running: taken.count };
  }
}
