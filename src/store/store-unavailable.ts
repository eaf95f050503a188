import { AppError } from '../core/errors.js';

/** What every surface answers while the database cannot be reached: 503, retryable. */
export function storeUnavailable(cause: unknown): AppError {
  return new AppError('store_unavailable', 'The database is unavailable; try again shortly', {
    cause,
    retryable: true,
    retryAfterSeconds: 1,
  });
}

/** Node's errors for a connection that could not be made or was lost. */
const socketFailures = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is not serving: class 08 (connection
 * exception), 57P01–57P03 (shutting down, crashed, starting up) and 53300
 * (too many connections).
 */
const unavailableStates = /^(08...|57P0[123]|53300)$/;

/** pg's own messages for a lost or timed-out connection (it gives them no code). */
const lostConnection =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/;

/**
 * The error a database driver threw, as Parley reports it: a connection
 * refused, lost or timed out becomes store_unavailable; anything else (a
 * constraint, a bug) is returned as it is, for its own handling.
 */
export function asStoreUnavailable(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (socketFailures.has(code) || unavailableStates.test(code))) return storeUnavailable(error);
  if (lostConnection.test(error.message)) return storeUnavailable(error);
  return error;
}
