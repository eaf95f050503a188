import type { AppError } from '../core/errors.js';

interface ActiveTurn {
  controller: AbortController;
  followClient: () => void;
  clientSignal: AbortSignal;
}

/**
 * The turns running in this process, each with a signal of its own that
 * follows its caller's and that shutdown can fire for all of them at once.
 * Listeners are added once per turn and removed when it ends, never per read.
 */
export class ActiveTurns {
  private readonly turns = new Set<ActiveTurn>();
  /** Set when draining starts: later turns are refused with it. */
  private refusedWith: AppError | undefined;
  private whenEmpty: (() => void)[] = [];

  get size(): number {
    return this.turns.size;
  }

  /** A turn starting; once draining has begun, its signal is aborted from the start. */
  start(clientSignal: AbortSignal): { signal: AbortSignal; end(): void } {
    const controller = new AbortController();
    const followClient = () => controller.abort(clientSignal.reason);
    const turn: ActiveTurn = { controller, followClient, clientSignal };
    if (this.refusedWith !== undefined) controller.abort(this.refusedWith);
    else if (clientSignal.aborted) followClient();
    else clientSignal.addEventListener('abort', followClient, { once: true });
    this.turns.add(turn);
    return { signal: controller.signal, end: () => this.end(turn) };
  }

  /** Refuses every later turn with `reason`; resolves once the running ones have ended. */
  drain(reason: AppError): Promise<void> {
    this.refusedWith = reason;
    if (this.turns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenEmpty.push(resolve));
  }

  /** Aborts every running turn with `reason` (and refuses later ones); resolves once all have ended. */
  interruptAll(reason: AppError): Promise<void> {
    const drained = this.drain(reason);
    for (const turn of this.turns) turn.controller.abort(reason);
    return drained;
  }

  private end(turn: ActiveTurn): void {
    if (!this.turns.delete(turn)) return;
    turn.clientSignal.removeEventListener('abort', turn.followClient);
    if (this.turns.size === 0) for (const resolve of this.whenEmpty.splice(0)) resolve();
  }
}
