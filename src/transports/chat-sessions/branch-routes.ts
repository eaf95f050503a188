import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StartRequest } from '../../chat/turns.js';
import { AppError, invalidRequest, notFound } from '../../core/errors.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { uuidPattern } from '../../http/resource-id.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { activateBranchBodySchema, regenerateBodySchema, sendMessageQuerySchema, sentMessageSchema } from './message-schemas.js';
import { answerTurn, sessionTurnOptions } from './message-routes.js';
import { sessionPathSchema } from './session-schemas.js';

const tags = ['chat-sessions'];

/**
 * The message tree of a session: POST /api/v1/chat/replies/{message_id}/regenerate
 * (a new version of a reply) and PUT /api/v1/chat/sessions/{session_id}/branch
 * (which branch the session shows and continues). Edits are POST
 * /api/v1/chat/messages with `edit_of`.
 */
export function registerBranchRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'providers' | 'store' | 'turns'>,
): void {
  const { authenticator, store } = dependencies;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    '/api/v1/chat/replies/:message_id/regenerate',
    {
      schema: {
        summary: 'Generate a new version of a reply',
        description:
          'Answers the same user message again, as a new version of the reply (no new user message is stored), and makes its ' +
          'branch active. JSON or Server-Sent Events exactly as POST /api/v1/chat/messages; message_start.user_message_id is ' +
          'the message answered. See docs/protocols/chat-sessions.md.',
        tags,
        params: z.object({ message_id: z.string().min(1).max(200) }),
        querystring: sendMessageQuerySchema,
        body: regenerateBodySchema,
        response: { 200: sentMessageSchema },
      },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const { message_id: messageId } = request.params;
      const replaced = uuidPattern.test(messageId) ? await store.getMessage(identity.userId, messageId.toLowerCase()) : undefined;
      if (replaced?.role !== 'assistant') throw notFound('Reply');
      const question = replaced.parentId == null ? undefined : await store.getMessage(identity.userId, replaced.parentId);
      if (question === undefined) throw invalidRequest('This reply answers no stored message, so it cannot be regenerated', 'message_id');
      const turn: StartRequest = {
        identity,
        target: { kind: 'existing', conversationId: replaced.conversationId },
        // For the budget and moderation; the prompt ends with the stored message itself.
        content: question.content,
        branch: { kind: 'regenerate', of: replaced.id },
        options: sessionTurnOptions(dependencies, request.body?.model),
        client: { bucket: 'chat-sessions', address: request.ip },
      };
      await answerTurn(dependencies, request, reply, turn);
    },
  );

  routes.put(
    '/api/v1/chat/sessions/:session_id/branch',
    {
      schema: {
        summary: 'Make the branch through a message active',
        description:
          'The session then shows and continues the branch through `message_id`: below it, the newest version at each step. ' +
          'Read the messages again afterwards.',
        tags,
        params: sessionPathSchema,
        body: activateBranchBodySchema,
        response: { 204: z.undefined() },
      },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const session = await ownedConversation(store, identity.userId, request.params.session_id, 'Chat session');
      const messageId = request.body.message_id.toLowerCase();
      if (!uuidPattern.test(messageId)) throw notFoundMessage();
      await store.activateBranch(identity.userId, session.id, messageId).catch((error: unknown) => {
        throw isNotFound(error) ? notFoundMessage() : error;
      });
      return reply.code(204).send();
    },
  );
}

function notFoundMessage(): AppError {
  return new AppError('not_found', 'body.message_id: no such message in this session', { field: 'message_id' });
}

function isNotFound(error: unknown): boolean {
  return error instanceof AppError && error.code === 'not_found';
}
