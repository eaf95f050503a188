import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalidRequest } from '../../core/errors.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { resourceId } from '../../http/resource-id.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { ChatStore, StoredMessage } from '../../store/chat-store.js';
import { conversationExportSchema, importProblem, maxExportedMessages, toExport, toImported, toMarkdown } from './conversation-export.js';

const tags = ['conversations'];
const pageSize = 500;

/**
 * Export a conversation of any API as JSON or Markdown, and import a JSON
 * export back as a new conversation of the caller's (its messages' text,
 * roles, statuses, models, times and tool calls kept; nothing billed).
 */
export function conversationExportRoutes(
  app: FastifyInstance,
  { authenticator, config, store }: Pick<ServerDependencies, 'authenticator' | 'config' | 'store'>,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/api/v1/conversations/:conversationId/export',
    {
      schema: {
        summary: 'Export a conversation as JSON or Markdown',
        tags,
        params: z.object({ conversationId: z.string().max(100) }),
        querystring: z.object({ format: z.enum(['json', 'markdown']).default('json') }),
      },
    },
    async (request, reply) => {
      const { userId } = await authenticator.requireHeader(request.headers.authorization);
      const conversation = await ownedConversation(
        store,
        userId,
        resourceId(request.params.conversationId, 'Conversation'),
        'Conversation',
      );
      const messages = await allMessages(store, userId, conversation.id);
      const name = `conversation-${conversation.id}`;
      if (request.query.format === 'markdown') {
        return reply
          .type('text/markdown; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.md"`)
          .send(toMarkdown(conversation, messages));
      }
      return reply.header('content-disposition', `attachment; filename="${name}.json"`).send(toExport(conversation, messages));
    },
  );

  routes.post(
    '/api/v1/conversations/import',
    {
      schema: {
        summary: 'Import a JSON export as a new conversation',
        tags,
        body: conversationExportSchema,
        response: { 201: z.object({ conversationId: z.string(), surface: z.string(), messageCount: z.number() }) },
      },
    },
    async (request, reply) => {
      const { userId } = await authenticator.requireHeader(request.headers.authorization);
      const limit = config.limits.maxMessageChars;
      const tooLong = request.body.messages.findIndex((message) => message.content.length > limit);
      if (tooLong !== -1)
        throw invalidRequest(`messages[${tooLong}].content: longer than ${limit} characters`, `messages.${tooLong}.content`);
      const problem = importProblem(request.body);
      if (problem !== undefined) throw invalidRequest(problem.message, problem.field);
      const conversation = await store.importConversation(userId, toImported(request.body));
      return reply
        .status(201)
        .send({ conversationId: conversation.id, surface: conversation.surface, messageCount: conversation.messageCount });
    },
  );
}

/** Every message of the conversation, oldest first, a page at a time. */
async function allMessages(store: ChatStore, userId: string, conversationId: string): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  for (let page = 1; messages.length < maxExportedMessages; page++) {
    const { items } = await store.listMessages(userId, conversationId, { page, limit: pageSize });
    messages.push(...items);
    if (items.length < pageSize) break;
  }
  return messages.slice(0, maxExportedMessages);
}
