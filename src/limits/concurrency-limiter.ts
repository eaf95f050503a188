/** One of a user's concurrent-reply slots, held until the reply ends. */
export type SlotResult = { granted: true; release: () => void } | { granted: false; running: number };

/**
 * Counts each user's replies in progress against a limit. In memory on one
 * instance; on Redis (src/limits/redis-concurrency-limiter.ts) when several
 * instances serve the same users.
 */
export interface ConcurrencyLimiter {
  acquire(userId: string, limit: number): Promise<SlotResult>;
}

export class LocalConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly running = new Map<string, number>();

  async acquire(userId: string, limit: number): Promise<SlotResult> {
    return this.acquireNow(userId, limit);
  }

  /** The same, without a promise hop, for the Redis limiter's fallback. */
  acquireNow(userId: string, limit: number): SlotResult {
    const running = this.running.get(userId) ?? 0;
    if (running >= limit) return { granted: false, running };
    this.running.set(userId, running + 1);
    return {
      granted: true,
      release: once(() => {
        const remaining = (this.running.get(userId) ?? 1) - 1;
        if (remaining <= 0) this.running.delete(userId);
        else this.running.set(userId, remaining);
      }),
    };
  }
}

/** A release that counts once, however often it is called. */
export function once(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}
