import type { FastifyError } from 'fastify';
import { AppError, toAppError, type ErrorCode } from '../core/errors.js';

/** Every error code's HTTP status, in one place; the compiler catches a missing code. */
export const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  account_disabled: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  concurrency_limited: 429,
  content_refused: 400,
  model_not_found: 400,
  model_not_available: 400,
  provider_auth_failed: 502,
  provider_rate_limited: 429,
  provider_error: 502,
  provider_unreachable: 502,
  provider_timeout: 504,
  provider_unavailable: 503,
  service_unavailable: 503,
  store_unavailable: 503,
  internal_error: 500,
};

export interface HttpError {
  status: number;
  error: AppError;
}

/** Maps anything thrown in a route (our errors, Fastify's, schema failures) to a status and an AppError. */
export function toHttpError(thrown: unknown): HttpError {
  if (thrown instanceof AppError) return { status: httpStatusByCode[thrown.code], error: thrown };
  const fastifyError = thrown as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) {
    const first = fastifyError.validation[0];
    const location = fastifyError.validationContext ?? 'body';
    const path = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
    const field = path === '' ? location : `${location}.${path}`;
    return { status: 400, error: new AppError('invalid_request', `${field}: ${first?.message ?? 'is invalid'}`, { field }) };
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, error: new AppError('payload_too_large', 'The request body is larger than the server accepts') };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof fastifyError.message === 'string') {
    // Fastify's own client errors (bad JSON, wrong content type) carry safe, clear messages.
    return { status, error: new AppError('invalid_request', fastifyError.message) };
  }
  return { status: 500, error: toAppError(thrown) };
}
