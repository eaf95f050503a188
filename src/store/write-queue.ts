import { setImmediate as nextMacrotask } from 'node:timers/promises';

/**
 * Runs async work one at a time, in arrival order. SQLite allows one writer,
 * and letting concurrent turns contend for its lock ends in SQLITE_BUSY, so
 * the store queues its writes here instead. The driver is synchronous, so a
 * queue chained on promises alone would run a burst of writes back to back
 * without letting any socket be served (bench/sockets.ts saw 1.5 s stalls
 * when 1,000 turns started at once); each write waits for a macrotask first.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => nextMacrotask()).then(work);
    // A failed work must not stop the ones queued after it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
