import type { FastifyInstance } from 'fastify';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { registerBranchRoutes } from './branch-routes.js';
import { registerMessageRoutes } from './message-routes.js';
import { registerSessionRoutes } from './session-routes.js';

/**
 * Seed 002's chat sessions under /api/v1/chat (errors keep the default
 * `{ error: { code, message } }` shape); the web app that speaks them is
 * served by src/transports/web-app/.
 */
export async function chatSessionsRoutes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  registerSessionRoutes(app, dependencies);
  registerMessageRoutes(app, dependencies);
  registerBranchRoutes(app, dependencies);
}
