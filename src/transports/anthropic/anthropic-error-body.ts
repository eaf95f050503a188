import type { FastifyReply } from 'fastify';
import type { AppError, ErrorCode } from '../../core/errors.js';
import { sendError, type ErrorBodyFormatter } from '../../http/error-handler.js';
import { httpStatusByCode } from '../../http/http-errors.js';

/** Anthropic's error types (https://docs.anthropic.com/en/api/errors), so its SDK raises its usual typed errors. */
const errorTypes: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request_error',
  content_refused: 'invalid_request_error',
  model_not_found: 'not_found_error',
  model_not_available: 'invalid_request_error',
  not_found: 'not_found_error',
  payload_too_large: 'request_too_large',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  account_disabled: 'permission_error',
  rate_limited: 'rate_limit_error',
  concurrency_limited: 'rate_limit_error',
  provider_rate_limited: 'rate_limit_error',
  provider_unavailable: 'overloaded_error',
  service_unavailable: 'overloaded_error',
  store_unavailable: 'overloaded_error',
};

/** `{ type: 'error', error: { type, message } }`; the message names the field, as Anthropic's do (`max_tokens: Field required`). */
export const anthropicErrorBody: ErrorBodyFormatter = (error) => {
  const field = error.field?.replace(/^body\./, '');
  const message = field === undefined || error.message.startsWith(field) ? error.message : `${field}: ${error.message}`;
  return { type: 'error', error: { type: errorTypes[error.code] ?? 'api_error', message } };
};

export function sendAnthropicError(reply: FastifyReply, error: AppError): void {
  sendError(reply, httpStatusByCode[error.code], error, anthropicErrorBody);
}

/** A failure after the stream opened, as Anthropic sends it: an `error` event. */
export function anthropicErrorEvent(error: AppError): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error, 0))}\n\n`;
}
