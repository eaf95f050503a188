import type { Logger } from '../core/logger.js';
import { settlesWithin } from '../core/settles-within.js';

interface Task {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Work that follows a turn off its path (an automatic title): it never
 * delays or fails the turn, and it is tracked, so that shutdown waits for it
 * a little and then aborts what is left before the store closes.
 */
export class BackgroundTasks {
  private readonly running = new Set<Task>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.running.size;
  }

  /** Starts `work` on a later tick; a failure is logged (its message only), never thrown. Refused once closing has begun. */
  run(name: string, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.closed) return;
    const controller = new AbortController();
    const task: Task = { controller, done: Promise.resolve() };
    task.done = Promise.resolve()
      .then(() => work(controller.signal))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) this.logger.warn({ task: name, error: (error as Error).message }, 'background task failed');
      })
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves once every task running now has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.running].map((task) => task.done));
  }

  /** Refuses new tasks, gives the running ones `graceMs` to end, then aborts the rest and waits for them. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.running.size === 0) return;
    await settlesWithin(this.idle(), graceMs);
    for (const task of this.running) task.controller.abort();
    await this.idle();
  }
}
