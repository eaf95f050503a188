import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';
import type { ServerDependencies } from '../http/server-dependencies.js';

/**
 * GET /metrics in Prometheus' text format. With METRICS_TOKEN set, only
 * `Authorization: Bearer <METRICS_TOKEN>` reads it (401 otherwise); unset,
 * anyone who reaches the port does, as with most exporters. Every answered
 * HTTP request is counted here by its route template, not its URL. With
 * METRICS=false there is no route (404) and no counting hook.
 */
export function registerMetricsRoute(app: FastifyInstance, { metrics, config }: Pick<ServerDependencies, 'metrics' | 'config'>): void {
  if (metrics === undefined) return;
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestAnswered(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  const expected = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected !== undefined && !timingSafeEqual(digest(bearerToken(request.headers.authorization)), expected)) {
      throw new AppError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}

function bearerToken(header: string | undefined): string {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
}

/** Equal-length digests, so that the comparison takes the same time whatever was sent. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
