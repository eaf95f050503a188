import type { AppError, ErrorCode } from '../core/errors.js';

/**
 * What every socket API's error event carries besides its message (whose
 * name each API chose: `error` or `message`): the stable code, the payload
 * field at fault, and when to try again.
 */
export interface SocketErrorDetails {
  code: ErrorCode;
  /** The payload field the error is about, when there is one. */
  field?: string;
  /** Seconds to wait before trying again (rate limits). */
  retryAfter?: number;
}

/** `fieldName` renames the engine's field names to the API's (seed 000 calls the user's text `prompt`). */
export function socketErrorDetails(error: AppError, fieldName: (field: string) => string = (field) => field): SocketErrorDetails {
  const details: SocketErrorDetails = { code: error.code };
  if (error.field !== undefined) details.field = fieldName(error.field);
  if (error.retryAfterSeconds !== undefined) details.retryAfter = error.retryAfterSeconds;
  return details;
}
