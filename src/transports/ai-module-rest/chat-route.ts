import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { StartRequest } from '../../chat/turns.js';
import { AppError } from '../../core/errors.js';
import { httpTurnClient } from '../../http/turn-event-stream.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { runAiChatTurn } from './ai-chat-turn.js';
import { withOwnConversation } from './ai-conversation.js';
import { chatBodySchema } from './ai-module-requests.js';
import { chatResponseSchema } from './ai-module-responses.js';
import type { RequestIdentities } from './request-identities.js';

/**
 * POST /api/v1/ai/chat: one turn, answered once the reply is stored. A
 * client that drops does not stop it: the reply is stored complete, for
 * GET …/conversations/{id}/messages to read.
 */
export function registerChatRoute(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'config' | 'store' | 'turns'>,
  identities: RequestIdentities,
): void {
  const schema = {
    summary: 'Send a chat message and get the whole reply',
    tags: ['ai-module'],
    body: chatBodySchema,
    response: { 200: chatResponseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().post('/chat', { schema }, async (request, reply) => {
    const client = httpTurnClient(reply);
    const identity = identities.of(request);
    const body = await withOwnConversation(dependencies.store, identity.userId, request.body);
    const start = (turn: StartRequest) => dependencies.turns.start(turn, { detachable: true, client });
    const outcome = await runAiChatTurn(start, dependencies.config.surfaces.aiModule, identity, body);
    if (outcome.kind === 'finished') return outcome.response;
    if (outcome.kind === 'failed') throw outcome.error;
    // The client has gone: nobody reads this answer, and the partial reply is stored.
    throw new AppError('invalid_request', 'The client closed the connection before the reply finished');
  });
}
