import { once } from './concurrency-limiter.js';

/** Tokens held from a user's budget by a turn still running, until its real usage is stored. */
export type BudgetReservation = { granted: true; release: () => void } | { granted: false; reserved: number };

/**
 * Reserves tokens from a user's budget before a turn calls its provider, so
 * that turns running at once cannot each see the budget unspent. A turn is
 * granted while what the user's running turns hold is below what is left of
 * the budget (`room`); it then holds `tokens`, its reply's most likely-high
 * cost. Overshoot is so bounded by one turn's reservation, however many run.
 * In memory on one instance; on Redis (redis-budget-ledger.ts) with several.
 */
export interface BudgetLedger {
  reserve(userId: string, tokens: number, room: number): Promise<BudgetReservation>;
}

export class LocalBudgetLedger implements BudgetLedger {
  private readonly held = new Map<string, number>();

  async reserve(userId: string, tokens: number, room: number): Promise<BudgetReservation> {
    return this.reserveNow(userId, tokens, room);
  }

  /** The same, without a promise hop, for the Redis ledger's fallback. */
  reserveNow(userId: string, tokens: number, room: number): BudgetReservation {
    const reserved = this.held.get(userId) ?? 0;
    if (reserved >= room) return { granted: false, reserved };
    this.held.set(userId, reserved + tokens);
    return {
      granted: true,
      release: once(() => {
        const remaining = (this.held.get(userId) ?? tokens) - tokens;
        if (remaining <= 0) this.held.delete(userId);
        else this.held.set(userId, remaining);
      }),
    };
  }
}
