import type { FastifyInstance } from 'fastify';
import type { RateLimitBucket } from '../../config/rate-limit-settings.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { registerChatRoute } from './chat-route.js';
import { registerConversationRoutes } from './conversation-routes.js';
import { registerEmbeddingsRoute } from './embeddings-route.js';
import { registerJobRoutes } from './job-routes.js';
import { RequestIdentities } from './request-identities.js';
import { registerUsageRoute } from './usage-route.js';

/** Seed 001 limits chat and embeddings separately, 20 requests a minute each; queued jobs count as requests. */
const rateLimitBuckets = new Map<string, RateLimitBucket>([
  ['/api/v1/ai/chat', 'ai-module'],
  ['/api/v1/ai/jobs/completions', 'ai-module'],
  ['/api/v1/ai/embeddings', 'ai-module-embeddings'],
  ['/api/v1/ai/jobs/embeddings', 'ai-module-embeddings'],
]);

/**
 * Seed 001's REST API under /api/v1/ai (docs/protocols/ai-module-rest.md).
 * Every route requires a signed-in user (the local user in local mode);
 * errors keep the default `{ error: { code, message } }` shape.
 */
export async function aiModuleRoutes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  const identities = new RequestIdentities(dependencies.authenticator);
  app.addHook('onRequest', identities.hook);
  app.addHook('preHandler', async (request) => {
    const bucket = request.method === 'POST' ? rateLimitBuckets.get(request.routeOptions.url ?? '') : undefined;
    if (bucket !== undefined) await dependencies.rateLimiter.consume(bucket, identities.of(request), request.ip);
  });
  registerChatRoute(app, dependencies, identities);
  registerEmbeddingsRoute(app, dependencies);
  registerConversationRoutes(app, dependencies, identities);
  registerUsageRoute(app, dependencies, identities);
  if (dependencies.aiJobs !== undefined) registerJobRoutes(app, dependencies, dependencies.aiJobs, identities);
}
