import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { LocalBudgetLedger, type BudgetLedger, type BudgetReservation } from './budget-ledger.js';
import { RedisLeases } from './redis-leases.js';

/**
 * Each reservation is a lease whose member is `<id>:<tokens>`; one is
 * granted while what is reserved is below the room left in the budget.
 * ARGV[3] is the room. Returns { 1, reserved before } when granted,
 * { 0, reserved } when not.
 */
const reserveScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local reserved = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  reserved = reserved + tonumber(string.match(member, ':(%d+)$'))
end
if reserved >= tonumber(ARGV[3]) then return {0, reserved} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, reserved}
`;

/**
 * Budget reservations in Redis, shared by every instance. While Redis cannot
 * be reached each instance reserves in memory (as the rate limits and reply
 * slots do) rather than refusing every turn.
 */
export class RedisBudgetLedger implements BudgetLedger {
  private readonly leases: RedisLeases;
  private readonly fallback = new LocalBudgetLedger();

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    leaseMs: number,
    logger: Logger,
  ) {
    this.leases = new RedisLeases(redis, 'reserveBudget', reserveScript, leaseMs, logger, 'token budget');
  }

  async reserve(userId: string, tokens: number, room: number): Promise<BudgetReservation> {
    const member = `${randomUUID()}:${Math.max(0, Math.ceil(tokens))}`;
    const taken = await this.leases.take(`${this.keyPrefix}:budget:${userId}`, member, room);
    if (taken === undefined) return this.fallback.reserveNow(userId, tokens, room);
    return taken.granted ? { granted: true, release: taken.release } : { granted: false, reserved: taken.count };
  }
}
