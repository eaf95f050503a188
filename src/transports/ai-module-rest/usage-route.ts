import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { toUsageResponse } from './ai-module-mappers.js';
import { usageResponseSchema } from './ai-module-responses.js';
import type { RequestIdentities } from './request-identities.js';

/** GET /api/v1/ai/usage: the caller's lifetime totals, over every API. */
export function registerUsageRoute(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'store'>,
  identities: RequestIdentities,
): void {
  const schema = { summary: "The caller's token usage", tags: ['ai-module'], response: { 200: usageResponseSchema } };
  app.withTypeProvider<ZodTypeProvider>().get('/usage', { schema }, async (request) => {
    return toUsageResponse(await dependencies.store.getUsage(identities.of(request).userId));
  });
}
