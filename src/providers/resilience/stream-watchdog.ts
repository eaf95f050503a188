import { AppError } from '../../core/errors.js';
import type { ResilienceSettings } from '../../config/resilience-settings.js';
import type { ChatProvider, ChatRequest, ProviderStreamPart } from '../chat-provider.js';

type Timeouts = ResilienceSettings['timeouts'];
type Phase = 'connect' | 'first token' | 'idle' | 'total';

/**
 * Opens a provider stream under four timeouts (connect, first token, idle
 * between parts, total) and resolves once the first part has arrived, so
 * that everything before the first token can be retried. Per part, the only
 * cost is one timestamp: the idle timer re-arms itself lazily.
 */
export async function openWatchedStream(
  provider: ChatProvider,
  request: ChatRequest,
  timeouts: Timeouts,
  displayName: string,
): Promise<AsyncIterable<ProviderStreamPart>> {
  const callerSignal = request.signal;
  const watchdog = new StreamWatchdog(timeouts, callerSignal);
  try {
    const stream = await provider.streamChat({ ...request, signal: watchdog.signal });
    watchdog.headersArrived();
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    watchdog.partArrived(true);
    const parts = new WatchedParts(first, iterator, watchdog, callerSignal, displayName);
    return { [Symbol.asyncIterator]: () => parts };
  } catch (error) {
    watchdog.stop();
    throw watchdog.explain(error, callerSignal, displayName);
  }
}

/**
 * The provider's parts, timed by the watchdog. A plain iterator rather than
 * an async generator: it adds one promise per streamed read, not two.
 */
class WatchedParts implements AsyncIterator<ProviderStreamPart> {
  private first: IteratorResult<ProviderStreamPart> | undefined;
  private finished = false;

  constructor(
    first: IteratorResult<ProviderStreamPart>,
    private readonly iterator: AsyncIterator<ProviderStreamPart>,
    private readonly watchdog: StreamWatchdog,
    private readonly callerSignal: AbortSignal,
    private readonly displayName: string,
  ) {
    this.first = first;
  }

  next(): Promise<IteratorResult<ProviderStreamPart>> {
    const first = this.first;
    if (first !== undefined) {
      this.first = undefined;
      return Promise.resolve(this.arrived(first));
    }
    return this.iterator.next().then(this.arrived, this.failed);
  }

  /** The consumer stopped early: the timers stop and the provider stream is closed. */
  async return(): Promise<IteratorResult<ProviderStreamPart>> {
    this.finish();
    await this.iterator.return?.();
    return { done: true, value: undefined };
  }

  private readonly arrived = (result: IteratorResult<ProviderStreamPart>): IteratorResult<ProviderStreamPart> => {
    if (result.done === true) this.finish();
    else this.watchdog.partArrived(false);
    return result;
  };

  private readonly failed = (error: unknown): never => {
    this.finish();
    throw this.watchdog.explain(error, this.callerSignal, this.displayName);
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.watchdog.stop();
  }
}

class StreamWatchdog {
  private readonly controller = new AbortController();
  private readonly startedAt = performance.now();
  private lastPartAt = this.startedAt;
  private expired: Phase | undefined;
  private phaseTimer: NodeJS.Timeout | undefined;
  private readonly totalTimer: NodeJS.Timeout;

  /** Follows the caller's signal by hand: AbortSignal.any costs a transferable object per request (profiled). */
  private readonly followCaller = () => this.controller.abort(this.callerSignal.reason);

  constructor(
    private readonly timeouts: Timeouts,
    private readonly callerSignal: AbortSignal,
  ) {
    this.totalTimer = setTimeout(() => this.expire('total'), timeouts.totalMs);
    this.phaseTimer = setTimeout(() => this.expire('connect'), timeouts.connectMs);
    if (callerSignal.aborted) this.controller.abort(callerSignal.reason);
    else callerSignal.addEventListener('abort', this.followCaller, { once: true });
  }

  /** Fires when the caller's signal does, or when a timeout expires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  headersArrived(): void {
    clearTimeout(this.phaseTimer);
    const remaining = this.timeouts.firstTokenMs - (performance.now() - this.startedAt);
    this.phaseTimer = setTimeout(() => this.expire('first token'), Math.max(remaining, 0));
  }

  partArrived(first: boolean): void {
    this.lastPartAt = performance.now();
    if (first) {
      clearTimeout(this.phaseTimer);
      this.phaseTimer = setTimeout(() => this.checkIdle(), this.timeouts.idleMs);
    }
  }

  stop(): void {
    clearTimeout(this.phaseTimer);
    clearTimeout(this.totalTimer);
    this.callerSignal.removeEventListener('abort', this.followCaller);
  }

  /** A timeout becomes provider_timeout; the caller's own abort stays an abort. */
  explain(error: unknown, callerSignal: AbortSignal, displayName: string): unknown {
    if (this.expired === undefined || callerSignal.aborted) return error;
    const limit = { connect: 'connectMs', 'first token': 'firstTokenMs', idle: 'idleMs', total: 'totalMs' } as const;
    return new AppError('provider_timeout', `${displayName} timed out (${this.expired}: ${this.timeouts[limit[this.expired]]} ms)`, {
      cause: error,
      retryable: true,
    });
  }

  private checkIdle(): void {
    const quiet = performance.now() - this.lastPartAt;
    if (quiet >= this.timeouts.idleMs) this.expire('idle');
    else this.phaseTimer = setTimeout(() => this.checkIdle(), this.timeouts.idleMs - quiet);
  }

  private expire(phase: Phase): void {
    this.expired ??= phase;
    this.stop();
    this.controller.abort();
  }
}
