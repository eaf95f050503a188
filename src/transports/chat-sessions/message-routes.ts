import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { clientDisconnectSignal } from '../../http/event-stream-response.js';
import { paginationQuerySchema } from '../../http/pagination.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { sendReply, streamReply } from './message-replies.js';
import { messageListSchema, sendMessageBodySchema, sendMessageQuerySchema, sentMessageSchema } from './message-schemas.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { pageFields, toMessageResponse } from './response-mappers.js';
import { sessionPathSchema } from './session-schemas.js';

const tags = ['chat-sessions'];

const sendDescription =
  'Answers the stored reply as JSON, or with `?stream=true` (or `Accept: text/event-stream`) streams it as Server-Sent Events: ' +
  'message_start, delta…, then done or error. See docs/protocols/chat-sessions.md.';

/** POST /api/v1/chat/messages and GET /api/v1/chat/messages/{session_id} (seed 002). */
export function registerMessageRoutes(app: FastifyInstance, dependencies: ServerDependencies): void {
  const { authenticator, store, engine, config } = dependencies;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    '/api/v1/chat/messages',
    {
      schema: {
        summary: 'Send a message and get the assistant reply',
        description: sendDescription,
        tags,
        querystring: sendMessageQuerySchema,
        body: sendMessageBodySchema,
        response: { 200: sentMessageSchema },
      },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      // Checked before the turn so an unknown session is a 404, never an opened stream.
      const session = await ownedConversation(store, identity.userId, request.body.session_id, 'Chat session');
      const events = engine.runTurn({
        identity,
        target: { kind: 'existing', conversationId: session.id },
        content: request.body.content,
        // The engine prefers the session's own system_prompt to the surface's.
        options: { ...config.surfaces.chatSessions },
        signal: clientDisconnectSignal(reply),
        client: { bucket: 'chat-sessions', address: request.ip },
      });
      if (wantsEventStream(request, request.query.stream)) await streamReply(reply, events);
      else await sendReply(reply, events);
    },
  );

  routes.get(
    '/api/v1/chat/messages/:session_id',
    {
      schema: {
        summary: "A session's messages, oldest first",
        tags,
        params: sessionPathSchema,
        querystring: paginationQuerySchema,
        response: { 200: messageListSchema },
      },
    },
    async (request) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const session = await ownedConversation(store, identity.userId, request.params.session_id, 'Chat session');
      const page = { page: request.query.page, limit: request.query.limit };
      const { items, total } = await store.listMessages(identity.userId, session.id, page);
      return { messages: items.map(toMessageResponse), ...pageFields(page, total) };
    },
  );
}

/** `?stream=true` or `false` decides; without it, an `Accept: text/event-stream` header asks for a stream. */
function wantsEventStream(request: FastifyRequest, stream: 'true' | 'false' | undefined): boolean {
  if (stream !== undefined) return stream === 'true';
  return request.headers.accept?.includes('text/event-stream') ?? false;
}
