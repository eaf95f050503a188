import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { notFound } from '../../core/errors.js';
import { pageMeta, paginationQuerySchema } from '../../http/pagination.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { ChatStore, StoredMessage } from '../../store/chat-store.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { toConversationDetail, toConversationResponse } from './ai-module-mappers.js';
import { idParamsSchema, newConversationBodySchema } from './ai-module-requests.js';
import { conversationDetailResponseSchema, conversationListResponseSchema, conversationResponseSchema } from './ai-module-responses.js';
import type { RequestIdentities } from './request-identities.js';

const tags = ['ai-module'];

/** /api/v1/ai/conversations: the caller's seed-001 conversations, whichever transport made them. */
export function registerConversationRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'store'>,
  identities: RequestIdentities,
): void {
  registerCreate(app, dependencies.store, identities);
  registerList(app, dependencies.store, identities);
  registerRead(app, dependencies.store, identities);
  registerDelete(app, dependencies.store, identities);
}

function registerCreate(app: FastifyInstance, store: ChatStore, identities: RequestIdentities): void {
  const schema = { summary: 'Create a conversation', tags, body: newConversationBodySchema, response: { 201: conversationResponseSchema } };
  app.withTypeProvider<ZodTypeProvider>().post('/conversations', { schema }, async (request, reply) => {
    const userId = identities.of(request).userId;
    const conversation = await store.createConversation(userId, { surface: 'ai-module', title: request.body.title ?? null });
    return reply.status(201).send(toConversationResponse(conversation));
  });
}

function registerList(app: FastifyInstance, store: ChatStore, identities: RequestIdentities): void {
  const schema = {
    summary: 'List conversations, most recently updated first',
    tags,
    querystring: paginationQuerySchema,
    response: { 200: conversationListResponseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().get('/conversations', { schema }, async (request) => {
    const page = request.query;
    const { items, total } = await store.listConversations(identities.of(request).userId, 'ai-module', page);
    return { data: items.map(toConversationResponse), meta: pageMeta(page, total) };
  });
}

function registerRead(app: FastifyInstance, store: ChatStore, identities: RequestIdentities): void {
  const schema = {
    summary: 'Get a conversation with its messages',
    tags,
    params: idParamsSchema,
    response: { 200: conversationDetailResponseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().get('/conversations/:id', { schema }, async (request) => {
    const userId = identities.of(request).userId;
    const conversation = await ownedConversation(store, userId, request.params.id, 'Conversation');
    return toConversationDetail(conversation, await allMessages(store, userId, conversation.id));
  });
}

function registerDelete(app: FastifyInstance, store: ChatStore, identities: RequestIdentities): void {
  const schema = { summary: 'Delete a conversation and its messages (204 No Content)', tags, params: idParamsSchema };
  app.withTypeProvider<ZodTypeProvider>().delete('/conversations/:id', { schema }, async (request, reply) => {
    const userId = identities.of(request).userId;
    const conversation = await ownedConversation(store, userId, request.params.id, 'Conversation');
    if (!(await store.deleteConversation(userId, conversation.id))) throw notFound('Conversation');
    return reply.status(204).send();
  });
}

const messagePageSize = 100;

/** Every message, oldest first, read a page at a time. */
async function allMessages(store: ChatStore, userId: string, conversationId: string): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  for (let page = 1; ; page += 1) {
    const { items, total } = await store.listMessages(userId, conversationId, { page, limit: messagePageSize });
    messages.push(...items);
    if (items.length < messagePageSize || messages.length >= total) return messages;
  }
}
