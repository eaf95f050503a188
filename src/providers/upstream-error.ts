import { AppError, isAbortError } from '../core/errors.js';

/**
 * Both official clients throw an APIError carrying the upstream's HTTP status,
 * headers and JSON error body; this maps it to Parley's codes once.
 * Upstream auth messages are never passed on: OpenAI's echoes part of the key.
 */
interface UpstreamFailure {
  status?: number;
  headers?: Headers;
  error?: { message?: unknown; error?: { message?: unknown } };
  name?: string;
  message?: string;
}

export interface UpstreamLabel {
  /** Shown to users: 'OpenAI', 'Anthropic'. */
  displayName: string;
  /** The variable that holds this provider's key, named in auth errors. */
  keyVariable: string;
}

export function toUpstreamError(error: unknown, label: UpstreamLabel): Error {
  if (isAbortError(error) || error instanceof AppError) return error as Error;
  const failure = (error ?? {}) as UpstreamFailure;
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  const { displayName } = label;
  if (status === undefined) {
    if (failure.name?.includes('Timeout') || (error as object | undefined)?.constructor?.name.includes('Timeout')) {
      return new AppError('provider_timeout', `${displayName} did not answer in time`, { cause: error, retryable: true });
    }
    // Only a failed connection says the provider is unreachable; any other error (a bug, an SDK refusing
    // its input) stays what it is, so that it is neither retried nor counted by the circuit breaker.
    if (!isConnectionFailure(error)) return error as Error;
    return new AppError('provider_unreachable', `Could not reach ${displayName}`, { cause: error, retryable: true });
  }
  if (status === 401 || status === 403) {
    return new AppError('provider_auth_failed', `${displayName} rejected the server's API key; check ${label.keyVariable}`, {
      cause: error,
    });
  }
  if (status === 404) return new AppError('model_not_found', upstreamMessage(failure, displayName), { cause: error, field: 'model' });
  if (status === 429) {
    return new AppError('provider_rate_limited', `${displayName} is rate limiting requests; try again later`, {
      cause: error,
      retryable: true,
      retryAfterSeconds: retryAfterSeconds(failure.headers),
    });
  }
  if (status >= 400 && status < 500) return new AppError('invalid_request', upstreamMessage(failure, displayName), { cause: error });
  return new AppError('provider_error', `${displayName} failed to answer (status ${status})`, { cause: error, retryable: true });
}

/** The SDKs' APIConnectionError (its `name` is plain 'Error'), or a socket error of Node's own. */
function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (error.constructor?.name.startsWith('APIConnection')) return true;
  return typeof (error as { code?: unknown }).code === 'string' && (error as { syscall?: unknown }).syscall !== undefined;
}

function upstreamMessage(failure: UpstreamFailure, displayName: string): string {
  const body = failure.error;
  const message = body?.message ?? body?.error?.message;
  return typeof message === 'string' && message !== '' ? `${displayName}: ${message}` : `${displayName} refused the request`;
}

/** Retry-After is seconds or an HTTP date; OpenAI also sends retry-after-ms. */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  if (headers === undefined) return undefined;
  const milliseconds = Number(headers.get('retry-after-ms'));
  if (milliseconds > 0) return Math.ceil(milliseconds / 1000);
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
