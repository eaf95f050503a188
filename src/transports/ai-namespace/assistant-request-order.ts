/**
 * Orders one socket's clear_history among its ai_requests as the client sent
 * them: a clear waits for the requests sent before it, and requests sent
 * after it wait for the clear. Without this, a clear racing a running
 * request would delete its question but keep its answer. Requests between
 * two clears run concurrently.
 */
export class AssistantRequestOrder {
  private readonly running = new Map<string, Promise<void>>();
  private clearing: Promise<void> = Promise.resolve();

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** `work` must not throw: it reports its own failures to the client. */
  runRequest(key: string, work: () => Promise<void>): Promise<void> {
    const run = this.clearing.then(work).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** `work` must not throw: it reports its own failures to the client. */
  runClear(work: () => Promise<void>): Promise<void> {
    const run = Promise.allSettled([this.clearing, ...this.running.values()]).then(work);
    this.clearing = run;
    return run;
  }
}
