import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { notFound } from '../../core/errors.js';
import { resourceId } from '../../http/resource-id.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { withOwnConversation } from './ai-conversation.js';
import { embeddingProvider } from './ai-embeddings.js';
import type { AiJobQueue } from './ai-jobs.js';
import { chatBodySchema, embeddingsBodySchema, idParamsSchema } from './ai-module-requests.js';
import { jobListResponseSchema, jobQueuedResponseSchema, jobResponseSchema } from './ai-module-responses.js';
import type { RequestIdentities } from './request-identities.js';

const tags = ['ai-module jobs'];

/**
 * /api/v1/ai/jobs: seed 001's background processing. A job is queued with
 * 202 and polled by id; only its owner sees it. What can be checked at once
 * (the conversation, an embeddings provider) is, so those mistakes answer
 * 404 or 400 now rather than as a failed job later.
 */
export function registerJobRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'providers' | 'store'>,
  jobs: AiJobQueue,
  identities: RequestIdentities,
): void {
  registerQueueRoutes(app, dependencies, jobs, identities);
  registerReadRoutes(app, jobs, identities);
}

function registerQueueRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'providers' | 'store'>,
  jobs: AiJobQueue,
  identities: RequestIdentities,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const response = { 202: jobQueuedResponseSchema };
  const completionSchema = { summary: 'Queue a chat completion', tags, body: chatBodySchema, response };
  routes.post('/jobs/completions', { schema: completionSchema }, async (request, reply) => {
    const identity = identities.of(request);
    const body = await withOwnConversation(dependencies.store, identity.userId, request.body);
    return answerQueued(reply, await jobs.add(identity.userId, 'generate-completion', { identityKind: identity.kind, request: body }));
  });
  const embeddingSchema = { summary: 'Queue an embedding', tags, body: embeddingsBodySchema, response };
  routes.post('/jobs/embeddings', { schema: embeddingSchema }, async (request, reply) => {
    embeddingProvider(dependencies.providers);
    return answerQueued(reply, await jobs.add(identities.of(request).userId, 'generate-embeddings', { request: request.body }));
  });
}

function registerReadRoutes(app: FastifyInstance, jobs: AiJobQueue, identities: RequestIdentities): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const listSchema = { summary: "The caller's jobs, newest first", tags, response: { 200: jobListResponseSchema } };
  routes.get('/jobs', { schema: listSchema }, async (request) => ({ data: await jobs.list(identities.of(request).userId) }));
  const readSchema = { summary: "A job's state, progress and result", tags, params: idParamsSchema, response: { 200: jobResponseSchema } };
  routes.get('/jobs/:id', { schema: readSchema }, async (request) => {
    const job = await jobs.get(identities.of(request).userId, resourceId(request.params.id, 'Job'));
    if (job === undefined) throw notFound('Job');
    return job;
  });
}

/** The seed's queueCompletion answer, with where to poll. */
function answerQueued(reply: FastifyReply, jobId: string): FastifyReply {
  return reply.status(202).header('location', `/api/v1/ai/jobs/${jobId}`).send({ jobId, status: 'queued' });
}
