import type { FastifyInstance } from 'fastify';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { registerAiAssistantPage } from './ai-assistant-page.js';
import { registerBranchRoutes } from './branch-routes.js';
import { registerMessageRoutes } from './message-routes.js';
import { registerSessionRoutes } from './session-routes.js';

/**
 * Seed 002's chat sessions under /api/v1/chat (errors keep the default
 * `{ error: { code, message } }` shape) and its web chat page at /ai-assistant.
 */
export async function chatSessionsRoutes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  registerSessionRoutes(app, dependencies);
  registerMessageRoutes(app, dependencies);
  registerBranchRoutes(app, dependencies);
  await registerAiAssistantPage(app);
}
