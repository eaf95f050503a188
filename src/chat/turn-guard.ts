import { setTimeout } from 'node:timers/promises';
import type { TurnLimits } from '../config/limit-settings.js';
import type { RateLimitBucket } from '../config/rate-limit-settings.js';
import { LocalBudgetLedger, type BudgetLedger } from '../limits/budget-ledger.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { UserAccessList } from '../auth/user-access-list.js';
import type { ModerationProvider } from '../providers/chat-provider.js';
import type { ChatStore } from '../store/chat-store.js';
import { AppError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';

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
 * per-user limits (concurrency and budgets). An admin's overrides for a user
 * (UserAccessList, in memory) replace the server's budgets and the surface's
 * rate limit for them.
 */
export class TurnGuard {
  constructor(
    private readonly limits: TurnLimits,
    private readonly store: ChatStore,
    private readonly moderation: ModerationProvider | undefined,
    private readonly rateLimiter: RateLimiter,
    private readonly concurrency: ConcurrencyLimiter = new LocalConcurrencyLimiter(),
    private readonly budgets: BudgetLedger = new LocalBudgetLedger(),
    private readonly access: UserAccessList = new UserAccessList(),
  ) {}

  /**
   * Resolves with the function that releases what the turn holds (its reply
   * slot, its budget reservation), to be called once its usage is stored;
   * or throws why it may not run.
   */
  async admit(
    identity: Identity,
    content: string,
    signal: AbortSignal,
    client: TurnClient | undefined,
    maxReplyTokens?: number,
  ): Promise<() => void> {
    this.checkLength(content);
    const bucket = client?.bucket ?? 'default';
    if (bucket !== 'none') await this.consumeRate(bucket, identity, client?.address);
    if (identity.kind === 'local') {
      if (this.limits.moderationModel !== undefined) await this.checkModeration(content, this.limits.moderationModel, signal);
      return noop;
    }
    const releaseBudget = await this.reserveBudget(identity.userId, content, maxReplyTokens, client?.background === true, signal);
    try {
      if (this.limits.moderationModel !== undefined) await this.checkModeration(content, this.limits.moderationModel, signal);
      // Jobs hold a budget reservation like any turn, but no reply slot.
      const releaseSlot = client?.background === true ? noop : await this.takeSlot(identity.userId);
      return () => {
        releaseSlot();
        releaseBudget();
      };
    } catch (error) {
      releaseBudget();
      throw error;
    }
  }

  /** The surface's rate limit, or the admin's per-user one instead (0: none). */
  private async consumeRate(bucket: RateLimitBucket, identity: Identity, address: string | undefined): Promise<void> {
    const perMinute = identity.kind === 'user' ? this.access.of(identity.userId)?.rateLimitPerMinute : undefined;
    if (perMinute === undefined || perMinute === null) return this.rateLimiter.consume(bucket, identity, address);
    if (perMinute > 0) await this.rateLimiter.consumePerMinute(identity.userId, perMinute);
  }

  /** The server's token budgets, or the admin's overrides for this user (0: no limit). */
  private budgetsOf(userId: string): { lifetimeTokenBudget: number; dailyTokenBudget: number } {
    const access = this.access.of(userId);
    return {
      lifetimeTokenBudget: access?.tokenBudgetLifetime ?? this.limits.lifetimeTokenBudget,
      dailyTokenBudget: access?.tokenBudgetDaily ?? this.limits.dailyTokenBudget,
    };
  }

  private checkLength(content: string): void {
    const limit = this.limits.maxMessageChars;
    if (content.length > limit) {
      throw new AppError('payload_too_large', `The message is ${content.length} characters; the limit is ${limit}`, { field: 'message' });
    }
  }

  /**
   * Refuses a user whose budget is spent (403, seed 001's wording), and
   * reserves the turn's largest likely cost (its message's length, plus its max tokens
   * or TOKEN_BUDGET_RESERVE) from what is left, so concurrent turns and jobs
   * cannot all spend the same remainder. While running turns hold the rest,
   * the turn is refused as retryable (429): their reservations are settled
   * to their real usage when they end.
   */
  private async reserveBudget(
    userId: string,
    content: string,
    maxReplyTokens: number | undefined,
    background: boolean,
    signal: AbortSignal,
  ): Promise<() => void> {
    const { lifetimeTokenBudget, dailyTokenBudget } = this.budgetsOf(userId);
    if (lifetimeTokenBudget === 0 && dailyTokenBudget === 0) return noop;
    // A message has no more tokens than characters: its length bounds them without running the tokenizer
    // a second time at the turn's start (the engine counts them exactly once the turn is admitted).
    const estimate = content.length + (maxReplyTokens ?? this.limits.budgetReserveTokens);
    for (;;) {
      const { lifetimeRoom, todayRoom } = await this.budgetRoom(userId);
      const reservation = await this.budgets.reserve(userId, estimate, Math.min(lifetimeRoom, todayRoom));
      if (reservation.granted) return reservation.release;
      if (!background) {
        throw new AppError(
          'concurrency_limited',
          'The rest of your token budget is held by replies still running; try again when one has finished.',
          { retryable: true, retryAfterSeconds: 1 },
        );
      }
      // A job is not retried: it waits in its queue slot for the running turns to settle instead.
      await setTimeout(budgetWaitMs, undefined, { signal });
    }
  }

  /**
   * Refuses a user whose token budget is spent (403, seed 001's wording),
   * for requests that are not turns (embeddings): they are billed after
   * the fact, so nothing is reserved.
   */
  async refuseSpentBudget(userId: string): Promise<void> {
    const { lifetimeTokenBudget, dailyTokenBudget } = this.budgetsOf(userId);
    if (lifetimeTokenBudget === 0 && dailyTokenBudget === 0) return;
    await this.budgetRoom(userId);
  }

  /** What is left of the user's budgets; throws forbidden when either is spent. */
  private async budgetRoom(userId: string): Promise<{ lifetimeRoom: number; todayRoom: number }> {
    const { lifetimeTokenBudget, dailyTokenBudget } = this.budgetsOf(userId);
    const usage = await this.store.getTokenUsage(userId);
    const lifetimeRoom = lifetimeTokenBudget > 0 ? lifetimeTokenBudget - usage.lifetimeTokens : Infinity;
    const todayRoom = dailyTokenBudget > 0 ? dailyTokenBudget - usage.todayTokens : Infinity;
    // Seed 001's wording, so its clients recognise it.
    if (lifetimeRoom <= 0) throw new AppError('forbidden', 'Token limit exceeded');
    if (todayRoom <= 0) throw new AppError('forbidden', 'Token limit exceeded for today');
    return { lifetimeRoom, todayRoom };
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

/** How often a job waiting for its budget's reservations to settle looks again. */
const budgetWaitMs = 100;

function noop(): void {}
