/**
 * The turns one socket has running, each with its own AbortController, so a
 * stop event or a disconnect aborts exactly the turns it should.
 */
export class InFlightTurns {
  private readonly controllers = new Map<string, AbortController>();

  get size(): number {
    return this.controllers.size;
  }

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

  /** Aborts one turn; false when there was none under that key. */
  abort(key: string): boolean {
    const controller = this.controllers.get(key);
    if (controller === undefined) return false;
    controller.abort();
    this.controllers.delete(key);
    return true;
  }

  abortAll(): number {
    const count = this.controllers.size;
    for (const controller of this.controllers.values()) controller.abort();
    this.controllers.clear();
    return count;
  }
}
