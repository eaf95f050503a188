import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { LocalBudgetLedger, type BudgetLedger, type BudgetReservation } from './budget-ledger.js';
import { once } from './concurrency-limiter.js';

/**
 * Reserves in one step, so two instances admitting the same user at the same
 * moment cannot both take the last of the budget. Each reservation is a lease
 * in a sorted set scored by its expiry, its member `<id>:<tokens>`: one an
 * instance left behind when it died frees itself once no reply could still run.
 * KEYS[1] the user's set; ARGV now, lease expiry (ms), room, member, key TTL (s).
 * Returns { 1, reserved before } when granted, { 0, reserved } when not.
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

type RedisWithBudgets = Redis & { reserveBudget(key: string, ...args: (string | number)[]): Promise<[number, number]> };

/**
 * Budget reservations in Redis, shared by every instance. While Redis cannot
 * be reached each instance reserves in memory (as the rate limits and reply
 * slots do) rather than refusing every turn.
 */
export class RedisBudgetLedger implements BudgetLedger {
  private readonly redis: RedisWithBudgets;
  private readonly fallback = new LocalBudgetLedger();

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    /** Longer than any reply can run (the provider's total timeout), so a live reply keeps its reservation. */
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    redis.defineCommand('reserveBudget', { numberOfKeys: 1, lua: reserveScript });
    this.redis = redis as RedisWithBudgets;
  }

  async reserve(userId: string, tokens: number, room: number): Promise<BudgetReservation> {
    if (this.redis.status !== 'ready') return this.fallback.reserveNow(userId, tokens, room);
    const key = `${this.keyPrefix}:budget:${userId}`;
    const member = `${randomUUID()}:${Math.max(0, Math.ceil(tokens))}`;
    const now = Date.now();
    let granted: number;
    let reserved: number;
    try {
      [granted, reserved] = await this.redis.reserveBudget(key, now, now + this.leaseMs, room, member, Math.ceil(this.leaseMs / 1000));
    } catch (error) {
      // A script that timed out may still run on Redis: its reservation then frees itself when its lease ends.
      this.logger.warn({ error: (error as Error).message }, 'token budget: redis failed; reserving in memory');
      return this.fallback.reserveNow(userId, tokens, room);
    }
    if (granted !== 1) return { granted: false, reserved };
    return {
      granted: true,
      release: once(() => {
        this.redis.zrem(key, member).catch((error: Error) => {
          // The lease expires on its own; until then it holds its tokens.
          this.logger.warn({ error: error.message }, 'token budget: could not release a reservation');
        });
      }),
    };
  }
}
