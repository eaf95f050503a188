import type { TurnLimits } from '../config/limit-settings.js';
import type { RateLimitBucket } from '../config/rate-limit-settings.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { ModerationProvider } from '../providers/chat-provider.js';
import type { ChatStore } from '../store/chat-store.js';
import { AppError } from './errors.js';
import type { Identity } from './identity.js';

/** Where a request comes from, for rate limits. */
export interface TurnClient {
  /** The budget the request draws from; `none` when the transport has already counted it. */
  bucket: RateLimitBucket | 'none';
  /** The client's IP address, so guests are counted per address too. */
  address?: string | undefined;
  /**
   * A queued job: the queue's own concurrency bounds it, and it takes none
   * of the user's concurrent-reply slots (jobs are not retried, so a job
   * refused for a reply the user has streaming would simply fail).
   */
  background?: boolean;
}

/**
 * Admits a turn before anything is stored or sent upstream: message length,
 * the surface's request rate, concurrent turns per user, token budgets and,
 * when enabled, moderation.
 * The local user of single-user mode owns the server and is exempt from the
 * per-user limits (concurrency and budgets).
 */
export class TurnGuard {
  constructor(
    private readonly limits: TurnLimits,
    private readonly store: ChatStore,
    private readonly moderation: ModerationProvider | undefined,
    private readonly rateLimiter: RateLimiter,
    private readonly concurrency: ConcurrencyLimiter = new LocalConcurrencyLimiter(),
  ) {}

  /** Resolves with the function that releases the turn's slot, or throws why it may not run. */
  async admit(identity: Identity, content: string, signal: AbortSignal, client: TurnClient | undefined): Promise<() => void> {
    this.checkLength(content);
    const bucket = client?.bucket ?? 'default';
    if (bucket !== 'none') await this.rateLimiter.consume(bucket, identity, client?.address);
    const exempt = identity.kind === 'local';
    if (!exempt) await this.checkBudget(identity.userId);
    if (this.limits.moderationModel !== undefined) await this.checkModeration(content, this.limits.moderationModel, signal);
    return exempt || client?.background === true ? noop : this.takeSlot(identity.userId);
  }

  private checkLength(content: string): void {
    const limit = this.limits.maxMessageChars;
    if (content.length > limit) {
      throw new AppError('payload_too_large', `The message is ${content.length} characters; the limit is ${limit}`, { field: 'message' });
    }
  }

  private async checkBudget(userId: string): Promise<void> {
    const { lifetimeTokenBudget, dailyTokenBudget } = this.limits;
    if (lifetimeTokenBudget === 0 && dailyTokenBudget === 0) return;
    const usage = await this.store.getTokenUsage(userId);
    const overLifetime = lifetimeTokenBudget > 0 && usage.lifetimeTokens >= lifetimeTokenBudget;
    const overToday = dailyTokenBudget > 0 && usage.todayTokens >= dailyTokenBudget;
    // Seed 001's wording, so its clients recognise it.
    if (overLifetime) throw new AppError('forbidden', 'Token limit exceeded');
    if (overToday) throw new AppError('forbidden', 'Token limit exceeded for today');
  }

  private async checkModeration(content: string, model: string, signal: AbortSignal): Promise<void> {
    if (this.moderation === undefined) return;
    const result = await this.moderation.moderate({ model, text: content, signal });
    if (result.flagged) {
      throw new AppError('content_refused', `The message was refused by moderation (${result.categories.join(', ') || 'flagged'})`, {
        field: 'message',
      });
    }
  }

  private async takeSlot(userId: string): Promise<() => void> {
    const limit = this.limits.maxConcurrentTurnsPerUser;
    if (limit === 0) return noop;
    const slot = await this.concurrency.acquire(userId, limit);
    if (slot.granted) return slot.release;
    throw new AppError(
      'concurrency_limited',
      `You already have ${slot.running} replies streaming; the limit is ${limit}. Wait for one to finish.`,
      { retryable: true, retryAfterSeconds: 1 },
    );
  }
}

function noop(): void {}
