/**
 * Runs one SDK call under a signal of its own that follows `signal`. The
 * official clients add an abort listener to the signal they are given and
 * never remove it, so a long-lived signal (the job queue's, a voice
 * session's) handed to them gathered one listener per call until Node
 * warned (MaxListenersExceededWarning). Our listener on the long-lived
 * signal is removed when the call settles; the SDK's dies with the child.
 */
export async function withOneCallSignal<T>(
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (signal === undefined) return call(undefined);
  const child = new AbortController();
  const follow = () => child.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  try {
    return await call(child.signal);
  } finally {
    signal.removeEventListener('abort', follow);
  }
}
