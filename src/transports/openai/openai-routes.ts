import type { FastifyInstance } from 'fastify';
import { installErrorHandler } from '../../http/error-handler.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { registerChatCompletionsRoute } from './chat-completions-route.js';
import { registerEmbeddingsRoute } from './embeddings-route.js';
import { registerModelsRoute } from './models-route.js';
import { openAIErrorBody } from './openai-error-body.js';

/** The OpenAI-compatible API, in its own scope so its errors take OpenAI's shape. */
export async function openAIRoutes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  installErrorHandler(app, openAIErrorBody);
  registerChatCompletionsRoute(app, dependencies);
  registerModelsRoute(app, dependencies);
  registerEmbeddingsRoute(app, dependencies);
}
