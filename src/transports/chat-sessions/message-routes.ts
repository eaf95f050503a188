import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TurnOptions } from '../../chat/chat-engine.js';
import type { StartRequest } from '../../chat/turns.js';
import { AppError, invalidRequest, notFound } from '../../core/errors.js';
import { uuidPattern } from '../../http/resource-id.js';
import type { ChatStore, StoredMessage } from '../../store/chat-store.js';
import { listedModels } from '../openai/models-route.js';
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
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'providers' | 'store' | 'turns'>,
): void {
  const { authenticator, store, turns } = dependencies;
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
      const { body } = request;
      // Checked before the turn so an unknown session is a 404, never an opened stream.
      const session = await ownedConversation(store, identity.userId, body.session_id, 'Chat session');
      const options = sessionTurnOptions(dependencies, body.model);
      const edited = body.edit_of === undefined ? undefined : await editedMessage(store, identity.userId, session.id, body.edit_of);
      const turn: StartRequest = {
        identity,
        target: { kind: 'existing', conversationId: session.id },
        content: body.content,
        ...(edited === undefined ? {} : { branch: { kind: 'edit', of: edited.id } }),
        options,
        client: { bucket: 'chat-sessions', address: request.ip },
      };
      await answerTurn(dependencies, request, reply, turn);
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

/**
 * Runs a session's turn and answers it as POST /api/v1/chat/messages does: the
 * stored reply as JSON, or a Server-Sent Events stream when asked for one.
 */
export async function answerTurn(
  dependencies: Pick<ServerDependencies, 'turns'>,
  request: FastifyRequest<{ Querystring: { stream?: 'true' | 'false' | undefined } }>,
  reply: FastifyReply,
  turn: StartRequest,
): Promise<void> {
  // A conversation turn outlives its request: a client that drops can resume it, or read it once stored.
  const reader = dependencies.turns.start(turn, { detachable: true, client: httpTurnClient(reply) });
  if (wantsEventStream(request, request.query.stream)) {
    await respondWithTurn(reply, reader, new SessionReplyStream(), { resumed: false, eventIds: true });
  } else await sendReply(reply, reader);
}

/** The surface's turn options, with the model the client chose when it is one GET /v1/models lists. */
export function sessionTurnOptions(dependencies: Pick<ServerDependencies, 'config' | 'providers'>, model: string | undefined): TurnOptions {
  // The engine prefers the session's own system_prompt to the surface's.
  const options = { ...dependencies.config.surfaces.chatSessions };
  if (model === undefined) return options;
  if (!listedModels(dependencies).includes(model)) {
    throw invalidRequest(`body.model: ${JSON.stringify(model)} is not a model of this server (GET /v1/models lists them)`, 'model');
  }
  return { ...options, model };
}

/** The user message `edit_of` names: 404 unless it is a message of this session, 400 unless a user message. */
async function editedMessage(store: ChatStore, userId: string, sessionId: string, id: string): Promise<StoredMessage> {
  const message = uuidPattern.test(id) ? await store.getMessage(userId, id.toLowerCase()) : undefined;
  if (message?.conversationId !== sessionId) {
    throw new AppError('not_found', 'body.edit_of: no such message in this session', { field: 'edit_of' });
  }
  if (message.role !== 'user') throw invalidRequest('body.edit_of: must be a user message', 'edit_of');
  return message;
}

/** `?stream=true` or `false` decides; without it, an `Accept: text/event-stream` header asks for a stream. */
function wantsEventStream(request: FastifyRequest, stream: 'true' | 'false' | undefined): boolean {
  if (stream !== undefined) return stream === 'true';
  return request.headers.accept?.includes('text/event-stream') ?? false;
}
