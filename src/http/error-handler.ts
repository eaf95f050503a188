import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../core/errors.js';
import { toHttpError } from './http-errors.js';
import { afterUnreadBodyDrained } from './unread-body-drain.js';

/** Formats an error for one API's clients; the default is `{ error: { code, message } }`. */
export type ErrorBodyFormatter = (error: AppError, status: number) => unknown;

export const parleyErrorBody: ErrorBodyFormatter = (error) => ({ error: { code: error.code, message: error.message } });

/**
 * Installs the error and not-found handlers for a Fastify scope. Unexpected
 * errors are logged by name and message only (no stack, which may hold
 * request data) and leave as a bare internal_error.
 */
export function installErrorHandler(app: FastifyInstance, formatBody: ErrorBodyFormatter = parleyErrorBody): void {
  app.setErrorHandler((thrown: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, error } = toHttpError(thrown);
    if (status >= 500) request.log.error({ code: error.code, error: describe(thrown) }, 'request failed');
    if (status === 413) afterUnreadBodyDrained(request.raw, () => sendError(reply, status, error, formatBody));
    else sendError(reply, status, error, formatBody);
  });
}

export function sendError(reply: FastifyReply, status: number, error: AppError, formatBody: ErrorBodyFormatter = parleyErrorBody): void {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  void reply.status(status).type('application/json').send(formatBody(error, status));
}

function describe(thrown: unknown): string {
  return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
}
