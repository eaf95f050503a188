/**
 * Every failure Parley reports has a stable code. Transports map codes to their
 * own wire format exactly once (see src/http/http-errors.ts); the core never
 * knows about HTTP statuses or socket events.
 */
export const errorCodes = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'account_disabled',
  'not_found',
  'payload_too_large',
  'rate_limited',
  'concurrency_limited',
  'content_refused',
  'model_not_found',
  'model_not_available',
  'provider_auth_failed',
  'provider_rate_limited',
  'provider_error',
  'provider_unreachable',
  'provider_timeout',
  'provider_unavailable',
  'service_unavailable',
  'store_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds the caller should wait before trying again (rate limits). */
  retryAfterSeconds?: number;
  /** Whether retrying the same request may succeed. */
  retryable?: boolean;
  /** The request field the error is about, when there is one. */
  field?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly retryable: boolean;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? false;
    this.field = options.field;
  }
}

export const invalidRequest = (message: string, field?: string) =>
  new AppError('invalid_request', message, field === undefined ? {} : { field });

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);

/**
 * Anything that is not an AppError is a bug or an infrastructure fault: its
 * message may hold internals, so callers show only this generic text.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('internal_error', 'Internal server error', { cause: error });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError');
}
