import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { AppError } from '../../core/errors.js';
import type { BreakerSettings, ResilienceSettings } from '../../config/resilience-settings.js';
import type { ChatProvider, ChatRequest, ProviderStreamPart } from '../chat-provider.js';
import { openWatchedStream } from './stream-watchdog.js';

/** Failures that say the provider itself is unwell, as opposed to a bad request or key. */
const outageCodes = new Set(['provider_error', 'provider_unreachable', 'provider_timeout']);

/** What a provider's requests have met since the process started. */
export interface ProviderCounts {
  /** Attempts repeated after a failure before the first token. */
  retries: number;
  /** Requests that failed to open, by error code (provider_timeout, provider_rate_limited, provider_unavailable, …). */
  failures: Map<string, number>;
}

/** `none` for a provider without a breaker (the demo model, or a threshold of 0). */
export type BreakerState = 'none' | 'closed' | 'open' | 'half_open' | 'isolated';

const breakerStates: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * One provider's protection: retries with exponential backoff and jitter
 * (honouring Retry-After) for failures before the first token, inside a
 * circuit breaker that fails fast after `threshold` consecutive failed
 * requests until the cooldown has passed.
 */
export class ProviderPolicy {
  /** Counted per request opened, read when metrics are scraped. */
  readonly counts: ProviderCounts = { retries: 0, failures: new Map() };
  private readonly retry: RetryPolicy;
  private readonly breaker: CircuitBreakerPolicy | undefined;

  constructor(
    private readonly provider: ChatProvider,
    private readonly displayName: string,
    private readonly settings: ResilienceSettings,
    private readonly breakerSettings: BreakerSettings,
  ) {
    this.retry = retry(
      handleWhen((error) => this.shouldRetry(error)),
      { maxAttempts: settings.maxRetries, backoff: new DelegateBackoff((context) => this.retryDelay(context.attempt, context.result)) },
    );
    this.breaker =
      breakerSettings.threshold === 0
        ? undefined
        : circuitBreaker(
            handleWhen((error) => error instanceof AppError && outageCodes.has(error.code)),
            { halfOpenAfter: breakerSettings.cooldownSeconds * 1000, breaker: new ConsecutiveBreaker(breakerSettings.threshold) },
          );
    this.retry.onRetry(() => (this.counts.retries += 1));
  }

  get breakerState(): BreakerState {
    if (this.breaker === undefined) return 'none';
    return breakerStates[this.breaker.state];
  }

  async open(request: ChatRequest): Promise<AsyncIterable<ProviderStreamPart>> {
    const attempt = () =>
      untilAborted(
        this.retry.execute(({ attempt }) => {
          if (attempt > 0) request.onRetry?.(attempt);
          return openWatchedStream(this.provider, request, this.settings.timeouts, this.displayName);
        }, request.signal),
        request.signal,
      );
    try {
      return await (this.breaker === undefined ? attempt() : this.breaker.execute(attempt));
    } catch (error) {
      if (!request.signal?.aborted) this.countFailure(error);
      if (!(error instanceof BrokenCircuitError)) throw error;
      throw new AppError('provider_unavailable', `${this.displayName} is unavailable after repeated failures; try again later`, {
        cause: error,
        retryable: true,
        retryAfterSeconds: this.breakerSettings.cooldownSeconds,
      });
    }
  }

  private countFailure(error: unknown): void {
    const code = error instanceof BrokenCircuitError ? 'provider_unavailable' : error instanceof AppError ? error.code : 'internal_error';
    this.counts.failures.set(code, (this.counts.failures.get(code) ?? 0) + 1);
  }

  private shouldRetry(error: Error): boolean {
    if (!(error instanceof AppError) || !error.retryable) return false;
    // A Retry-After longer than we are willing to hold the client is passed on instead.
    return error.retryAfterSeconds === undefined || error.retryAfterSeconds * 1000 <= this.settings.retryMaxDelayMs;
  }

  private retryDelay(attempt: number, result: { error: Error } | { value: unknown }): number {
    const exponential = Math.min(this.settings.retryBaseDelayMs * 2 ** (attempt - 1), this.settings.retryMaxDelayMs);
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    const retryAfter = 'error' in result && result.error instanceof AppError ? result.error.retryAfterSeconds : undefined;
    return retryAfter === undefined ? jittered : Math.max(jittered, retryAfter * 1000);
  }
}

/**
 * Settles with `opening`, or rejects as soon as the caller's signal fires.
 * cockatiel sleeps out a retry's backoff (or Retry-After, up to
 * PROVIDER_RETRY_MAX_DELAY_MS) even after an abort, which would keep a
 * turn whose client left alive, unsaved and holding its slot and budget for
 * seconds. A stream that opens after the caller left is closed at once.
 */
function untilAborted<T extends AsyncIterable<unknown>>(opening: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return opening;
  if (signal.aborted) {
    void opening.then(close, () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const leave = () => reject(signal.reason);
    signal.addEventListener('abort', leave, { once: true });
    opening.then(
      (stream) => {
        signal.removeEventListener('abort', leave);
        if (signal.aborted) close(stream);
        else resolve(stream);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', leave);
        reject(error);
      },
    );
  });
}

function close(stream: AsyncIterable<unknown>): void {
  void stream[Symbol.asyncIterator]()
    .return?.()
    ?.catch(() => undefined);
}
