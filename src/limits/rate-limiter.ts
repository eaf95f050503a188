import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateBudget, RateLimitBucket, RateLimitSettings } from '../config/rate-limit-settings.js';
import { AppError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';

/** Draws one request from a bucket, or throws rate_limited with the seconds to wait. */
export interface RateLimiter {
  consume(bucket: RateLimitBucket, identity: Identity, clientAddress: string | undefined): Promise<void>;
  /** Draws one turn from a user's own limit an admin set (turns a minute), in place of the surface's. */
  consumePerMinute(userId: string, perMinute: number): Promise<void>;
}

/**
 * Per-identity request budgets with rate-limiter-flexible: in memory on one
 * instance, in Redis when REDIS_URL is set so that every instance shares
 * them; while Redis cannot be reached each instance counts in memory
 * (rate-limiter-flexible's insurance limiter) rather than failing requests.
 * Guests are counted by their client address as well, so reconnecting
 * (a new socket, a new session) does not reset their budget. The local user
 * of single-user mode owns the server and is not limited.
 */
export class FlexibleRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract | undefined>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly redis: Redis | undefined,
  ) {}

  async consume(bucket: RateLimitBucket, identity: Identity, clientAddress: string | undefined): Promise<void> {
    if (identity.kind === 'local') return;
    const anonymous = identity.kind === 'anonymous';
    const limiter = this.limiterFor(bucket, anonymous);
    if (limiter === undefined) return;
    try {
      await limiter.consume(`${bucket}:user:${identity.userId}`);
      if (anonymous && clientAddress !== undefined) await limiter.consume(`${bucket}:address:${clientAddress}`);
    } catch (rejection) {
      throw rateLimited(rejection);
    }
  }

  async consumePerMinute(userId: string, perMinute: number): Promise<void> {
    const name = `per-user:${perMinute}`;
    if (!this.limiters.has(name)) this.limiters.set(name, this.create(name, { points: perMinute, windowSeconds: 60 }));
    try {
      await this.limiters.get(name)?.consume(userId);
    } catch (rejection) {
      throw rateLimited(rejection);
    }
  }

  private limiterFor(bucket: RateLimitBucket, anonymous: boolean): RateLimiterAbstract | undefined {
    const name = `${bucket}:${anonymous ? 'anonymous' : 'signed-in'}`;
    if (!this.limiters.has(name)) {
      const budgets = this.settings.buckets[bucket];
      this.limiters.set(name, this.create(name, anonymous ? budgets.anonymous : budgets.signedIn));
    }
    return this.limiters.get(name);
  }

  private create(name: string, budget: RateBudget): RateLimiterAbstract | undefined {
    if (budget.points === 0) return undefined;
    const options = { points: budget.points, duration: budget.windowSeconds, keyPrefix: `${this.settings.redisKeyPrefix}:${name}` };
    if (this.redis === undefined) return new RateLimiterMemory(options);
    return new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: new RateLimiterMemory(options) });
  }
}

function rateLimited(rejection: unknown): unknown {
  if (!(rejection instanceof RateLimiterRes)) return rejection;
  const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new AppError('rate_limited', `Too many requests: try again in ${retryAfterSeconds} s`, { retryAfterSeconds, retryable: true });
}
