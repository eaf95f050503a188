/**
 * The turns one socket has started and may stop, each with its own
 * AbortController, so a stop event aborts exactly the turns it should (a
 * disconnect stops none: the turns detach, see src/chat/turns.ts).
 */
export class InFlightTurns {
  private readonly controllers = new Map<string, AbortController>();

  /** Registers a turn under a key (a requestId, or one fixed key per surface) and returns its signal. */
  start(key: string): AbortSignal {
    this.controllers.get(key)?.abort();
    const controller = new AbortController();
    this.controllers.set(key, controller);
    return controller.signal;
  }

  /** Forgets a turn that ended, unless a newer turn took its key meanwhile. */
  finish(key: string, signal: AbortSignal): void {
    if (this.controllers.get(key)?.signal === signal) this.controllers.delete(key);
  }

  /** Aborts every turn still running; returns how many there were. */
  abortAll(): number {
    const count = this.controllers.size;
    for (const controller of this.controllers.values()) controller.abort();
    this.controllers.clear();
    return count;
  }
}
