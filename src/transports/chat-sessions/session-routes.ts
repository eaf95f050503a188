import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { paginationQuerySchema } from '../../http/pagination.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { resourceId } from '../../http/resource-id.js';
import { pageFields, toSessionResponse } from './response-mappers.js';
import {
  createSessionBodySchema,
  renameSessionBodySchema,
  sessionListSchema,
  sessionPathSchema,
  sessionSchema,
} from './session-schemas.js';

const tags = ['chat-sessions'];

/** POST, GET, PATCH and DELETE /api/v1/chat/sessions (seed 002; PATCH is Parley's). */
export function registerSessionRoutes(app: FastifyInstance, dependencies: Pick<ServerDependencies, 'authenticator' | 'store'>): void {
  const { authenticator, store } = dependencies;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    '/api/v1/chat/sessions',
    { schema: { summary: 'Create a chat session', tags, body: createSessionBodySchema, response: { 201: sessionSchema } } },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const body = request.body ?? {};
      const conversation = await store.createConversation(identity.userId, {
        surface: 'chat-sessions',
        title: body.title ?? 'New Chat',
        mode: body.mode ?? 'general',
        systemPrompt: body.system_prompt ?? null,
        tags: body.context_tags ?? [],
      });
      return reply.code(201).send(toSessionResponse(conversation));
    },
  );

  routes.get(
    '/api/v1/chat/sessions',
    {
      schema: {
        summary: "List the caller's chat sessions, most recently active first",
        tags,
        querystring: paginationQuerySchema,
        response: { 200: sessionListSchema },
      },
    },
    async (request) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const { items, total } = await store.listConversations(identity.userId, 'chat-sessions', request.query);
      return { sessions: items.map(toSessionResponse), ...pageFields(request.query, total) };
    },
  );

  routes.patch(
    '/api/v1/chat/sessions/:session_id',
    {
      schema: {
        summary: 'Rename a chat session',
        description: 'Sets the title (1–200 characters); an automatic title never overwrites it. The session keeps its place in the list.',
        tags,
        params: sessionPathSchema,
        body: renameSessionBodySchema,
        response: { 200: sessionSchema },
      },
    },
    async (request) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const renamed = await store.renameConversation(
        identity.userId,
        resourceId(request.params.session_id, 'Chat session'),
        request.body.title,
      );
      // Any of the caller's conversations, as DELETE: a session is a conversation whichever API made it.
      if (renamed === undefined) throw notFound('Chat session');
      return toSessionResponse(renamed);
    },
  );

  routes.delete(
    '/api/v1/chat/sessions/:session_id',
    {
      schema: { summary: 'Delete a chat session and all its messages', tags, params: sessionPathSchema, response: { 204: z.undefined() } },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const session = await ownedConversation(store, identity.userId, request.params.session_id, 'Chat session');
      if (!(await store.deleteConversation(identity.userId, session.id))) throw notFound('Chat session');
      return reply.code(204).send();
    },
  );
}
