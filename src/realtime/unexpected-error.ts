import { AppError, toAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * For the catch-all around a socket event handler: an AppError passes as it
 * is; anything else is a bug, logged (name and message, no stack) and sent
 * to the client only as a bare internal_error.
 */
export function reportUnexpected(logger: Logger, error: unknown, event: string): AppError {
  if (!(error instanceof AppError)) {
    logger.error({ event, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 'socket handler failed');
  }
  return toAppError(error);
}
