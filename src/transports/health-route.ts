import type { FastifyInstance } from 'fastify';
import type { ServerDependencies } from '../http/server-dependencies.js';

/** GET /health: 200 when the database answers, 503 when it does not. */
export function registerHealthRoute(app: FastifyInstance, { store, providers }: Pick<ServerDependencies, 'providers' | 'store'>): void {
  app.get('/health', async (request, reply) => {
    try {
      await store.ping();
      return { status: 'ok', database: store.kind, demoMode: providers.demoMode };
    } catch (error) {
      request.log.error({ error: error instanceof Error ? error.message : String(error) }, 'health check: database unreachable');
      return reply.status(503).send({ status: 'unavailable', database: store.kind });
    }
  });
}
