import type { FastifyReply } from 'fastify';
import type { AppError, ErrorCode } from '../../core/errors.js';
import { sendError, type ErrorBodyFormatter } from '../../http/error-handler.js';
import { httpStatusByCode } from '../../http/http-errors.js';

const errorTypes: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request_error',
  model_not_found: 'invalid_request_error',
  model_not_available: 'invalid_request_error',
  not_found: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  account_disabled: 'permission_error',
  rate_limited: 'rate_limit_error',
  provider_rate_limited: 'rate_limit_error',
};

/** OpenAI's error shape, so OpenAI clients raise their usual typed errors; `param` names the body field as OpenAI does (`input`, not `body.input`). */
export const openAIErrorBody: ErrorBodyFormatter = (error) => ({
  error: {
    message: error.message,
    type: errorTypes[error.code] ?? 'api_error',
    param: error.field?.replace(/^body\./, '') ?? null,
    code: error.code,
  },
});

/** An error as OpenAI answers it: its status code and this body. */
export function sendOpenAIError(reply: FastifyReply, error: AppError): void {
  sendError(reply, httpStatusByCode[error.code], error, openAIErrorBody);
}
