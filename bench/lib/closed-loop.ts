/**
 * Runs `concurrency` clients, each starting its next stream as soon as the
 * last one ended (a closed loop), until `durationMs` has passed and each has
 * run at least `minStreamsPerClient`. Streams already running finish, so
 * every token a relay relayed in the window is counted. Resolves with the
 * elapsed time in ms.
 */
export async function runClosedLoop(options: {
  concurrency: number;
  durationMs: number;
  minStreamsPerClient?: number;
  /**
   * Client i starts its first stream at i/concurrency of this: with long
   * streams and one or two per client, starting all at once would measure a
   * thundering herd rather than steady concurrency.
   */
  rampMs?: number;
  /** One stream; must not throw (record failures in the meter). */
  stream(client: number): Promise<void>;
  /** Stops early, e.g. when errors pile up. */
  shouldStop?(): boolean;
}): Promise<number> {
  const start = performance.now();
  const deadline = start + options.durationMs;
  const minStreams = options.minStreamsPerClient ?? 1;
  const client = async (index: number) => {
    const offset = ((options.rampMs ?? 0) * index) / options.concurrency;
    if (offset > 0) await new Promise((resolve) => setTimeout(resolve, offset));
    for (let done = 0; done < minStreams || performance.now() < deadline; done++) {
      if (options.shouldStop?.()) return;
      await options.stream(index);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => client(index)));
  return performance.now() - start;
}
