import { AppError } from '../../core/errors.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { clientDisconnectSignal } from '../../http/event-stream-response.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { createEmbedding } from './ai-embeddings.js';
import { embeddingsBodySchema } from './ai-module-requests.js';
import { embeddingsResponseSchema } from './ai-module-responses.js';

/** POST /api/v1/ai/embeddings through the provider layer (text-embedding-3-small by default). */
export function registerEmbeddingsRoute(app: FastifyInstance, dependencies: Pick<ServerDependencies, 'config' | 'providers'>): void {
  const schema = {
    summary: 'Generate an embedding vector for a text',
    tags: ['ai-module'],
    body: embeddingsBodySchema,
    response: { 200: embeddingsResponseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().post('/embeddings', { schema }, async (request, reply) => {
    // Refused before any tokenizing: counting a megabyte of text blocks the event loop for seconds.
    const limit = dependencies.config.limits.maxMessageChars;
    if (request.body.text.length > limit) {
      throw new AppError('payload_too_large', `The text is ${request.body.text.length} characters; the limit is ${limit}`, {
        field: 'text',
      });
    }
    return createEmbedding(dependencies.providers, request.body, clientDisconnectSignal(reply));
  });
}
