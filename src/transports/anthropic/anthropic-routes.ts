import type { FastifyInstance } from 'fastify';
import { installErrorHandler } from '../../http/error-handler.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { anthropicErrorBody } from './anthropic-error-body.js';
import { registerMessagesRoute } from './messages-route.js';

/** The Anthropic-compatible API, in its own scope so its errors take Anthropic's shape. */
export async function anthropicRoutes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  installErrorHandler(app, anthropicErrorBody);
  registerMessagesRoute(app, dependencies);
}
