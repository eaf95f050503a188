import type { FastifyInstance } from 'fastify';
import type { ServerDependencies } from '../http/server-dependencies.js';

/**
 * GET /ready: 200 `{ status: 'ready' }` when every dependency answers; 503
 * `{ status: 'unavailable', draining, down }` naming what is down, or while
 * the instance drains at shutdown.
 */
export function registerReadyRoute(app: FastifyInstance, { readiness }: Pick<ServerDependencies, 'readiness'>): void {
  app.get('/ready', async (request, reply) => {
    const report = await readiness.report();
    if (report.ready) return { status: 'ready' };
    if (report.down.length > 0) request.log.warn({ down: report.down }, 'readiness check: dependencies down');
    return reply.status(503).send({ status: 'unavailable', draining: report.draining, down: report.down });
  });
}
