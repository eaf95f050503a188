import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StartRequest } from '../../chat/turns.js';
import { notFound } from '../../core/errors.js';
import { sendError } from '../../http/error-handler.js';
import { httpTurnClient, respondWithTurn, resumePoint } from '../../http/turn-event-stream.js';
import { paginationQuerySchema } from '../../http/pagination.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { SessionReplyStream, sendReply } from './message-replies.js';
import { messageListSchema, sendMessageBodySchema, sendMessageQuerySchema, sentMessageSchema } from './message-schemas.js';
import { ownedConversation } from '../../http/owned-conversation.js';
import { pageFields, toMessageResponse, toSummaryResponse } from './response-mappers.js';
import { sessionPathSchema } from './session-schemas.js';

const tags = ['chat-sessions'];

const sendDescription =
  'Answers the stored reply as JSON, or with `?stream=true` (or `Accept: text/event-stream`) streams it as Server-Sent Events: ' +
  'message_start, delta…, then done or error. See docs/protocols/chat-sessions.md.';

/** POST /api/v1/chat/messages and GET /api/v1/chat/messages/{session_id} (seed 002). */
export function registerMessageRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'store' | 'turns'>,
): void {
  const { authenticator, store, turns, config } = dependencies;
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
      const turn: StartRequest = {
        identity,
        target: { kind: 'existing', conversationId: session.id },
        content: request.body.content,
        // The engine prefers the session's own system_prompt to the surface's.
        options: { ...config.surfaces.chatSessions },
        client: { bucket: 'chat-sessions', address: request.ip },
      };
      // A conversation turn outlives its request: a client that drops can resume it, or read it once stored.
      const reader = turns.start(turn, { detachable: true, client: httpTurnClient(reply) });
      if (wantsEventStream(request, request.query.stream)) {
        await respondWithTurn(reply, reader, new SessionReplyStream(), { resumed: false, eventIds: true });
      } else await sendReply(reply, reader);
    },
  );

  routes.get(
    '/api/v1/chat/replies/:message_id/stream',
    {
      schema: {
        summary: 'Resume the stream of a reply',
        description:
          'The reply (`message_id`, from message_start or the X-Parley-Turn-Id header) as Server-Sent Events from after the ' +
          'Last-Event-ID header (or `?after=`): the events missed, then the rest live. See docs/protocols/chat-sessions.md.',
        tags,
        params: z.object({ message_id: z.string().min(1).max(200) }),
        querystring: resumeQuerySchema,
      },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const after = resumePoint(request, request.query.after);
      const reader = await turns.follow(request.params.message_id, identity.userId, after, httpTurnClient(reply));
      if (reader === undefined) return sendError(reply, 404, notFound('Streaming reply'));
      await respondWithTurn(reply, reader, new SessionReplyStream(), { resumed: true, eventIds: true });
    },
  );

  routes.post(
    '/api/v1/chat/replies/:message_id/stop',
    {
      schema: {
        summary: 'Stop a reply being generated',
        description: 'Aborts the upstream request at once; the partial reply is stored as interrupted and its stream ends.',
        tags,
        params: z.object({ message_id: z.string().min(1).max(200) }),
      },
    },
    async (request, reply) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      const outcome = await turns.stop(request.params.message_id, identity.userId);
      if (outcome === 'unknown') return sendError(reply, 404, notFound('Reply'));
      return reply.code(outcome === 'stopped' ? 202 : 200).send({ stopped: outcome === 'stopped' });
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
      const [{ items, total }, summary] = await Promise.all([
        store.listMessages(identity.userId, session.id, page),
        store.latestSummary(identity.userId, session.id),
      ]);
      return { messages: items.map(toMessageResponse), summary: toSummaryResponse(summary), ...pageFields(page, total) };
    },
  );
}

const resumeQuerySchema = z.object({ after: z.coerce.number().int().min(0).optional() });

/** `?stream=true` or `false` decides; without it, an `Accept: text/event-stream` header asks for a stream. */
function wantsEventStream(request: FastifyRequest, stream: 'true' | 'false' | undefined): boolean {
  if (stream !== undefined) return stream === 'true';
  return request.headers.accept?.includes('text/event-stream') ?? false;
}
