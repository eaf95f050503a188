import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../../core/errors.js';
import { clientDisconnectSignal } from '../../http/event-stream-response.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { runAiChatTurn } from './ai-chat-turn.js';
import { withOwnConversation } from './ai-conversation.js';
import { chatBodySchema } from './ai-module-requests.js';
import { chatResponseSchema } from './ai-module-responses.js';
import type { RequestIdentities } from './request-identities.js';

/** POST /api/v1/ai/chat: one turn, answered once the reply is stored. */
export function registerChatRoute(app: FastifyInstance, dependencies: ServerDependencies, identities: RequestIdentities): void {
  const schema = {
    summary: 'Send a chat message and get the whole reply',
    tags: ['ai-module'],
    body: chatBodySchema,
    response: { 200: chatResponseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().post('/chat', { schema }, async (request, reply) => {
    const signal = clientDisconnectSignal(reply);
    const identity = identities.of(request);
    const body = await withOwnConversation(dependencies.store, identity.userId, request.body);
    const outcome = await runAiChatTurn(dependencies.engine, dependencies.config.surfaces.aiModule, identity, body, signal);
    if (outcome.kind === 'finished') return outcome.response;
    if (outcome.kind === 'failed') throw outcome.error;
    // The client has gone: nobody reads this answer, and the partial reply is stored.
    throw new AppError('invalid_request', 'The client closed the connection before the reply finished');
  });
}
