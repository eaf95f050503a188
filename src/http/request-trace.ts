import type { FastifyRequest } from 'fastify';

/**
 * The trace context of each HTTP request being traced (set by the tracing
 * hook in src/operations/tracing.ts), handed to the turn the request starts
 * through httpTurnClient. Explicit rather than an AsyncLocalStorage: a
 * context entered in a hook leaks into whatever the request's execution
 * starts, shared timers and other clients' turns included.
 */
const contexts = new WeakMap<FastifyRequest, unknown>();

export function setRequestTraceContext(request: FastifyRequest, context: unknown): void {
  contexts.set(request, context);
}

/** undefined when tracing is off. */
export function requestTraceContext(request: FastifyRequest): unknown {
  return contexts.get(request);
}
