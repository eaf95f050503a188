/**
 * Runs async work one at a time, in arrival order. SQLite allows one writer,
 * and letting concurrent turns contend for its lock ends in SQLITE_BUSY, so
 * the store queues its writes here instead.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    // A failed work must not stop the ones queued after it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
