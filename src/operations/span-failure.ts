import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { AppError } from '../core/errors.js';

/** A failure is named by its error code only: no message, stack or key reaches the collector. */
export function recordFailure(span: Span, failure: unknown): void {
  const code = failure instanceof AppError ? failure.code : 'internal_error';
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** Ends `span`, as failed when there is a failure. */
export function endSpan(span: Span, failure: unknown): void {
  if (failure !== undefined) recordFailure(span, failure);
  span.end();
}
