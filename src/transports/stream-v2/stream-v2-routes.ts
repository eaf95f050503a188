import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { sendError } from '../../http/error-handler.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { httpTurnClient, respondWithTurn, resumePoint } from '../../http/turn-event-stream.js';
import { httpSession } from './session-identity.js';
import { streamChatBodySchema } from './stream-v2-request.js';
import { StreamV2Stream } from './stream-v2-stream.js';
import { streamV2Turn } from './stream-v2-turn.js';

const tags = ['stream-v2'];

const resumeSchema = {
  summary: 'Resume a streaming chat reply',
  description:
    'The turn named by the X-Parley-Turn-Id header of POST /api/v2/ai/chat/stream, from after Last-Event-ID (or `?after=`); ' +
    'a guest sends its sessionId. See docs/protocols/stream-v2.md.',
  tags,
  params: z.object({ turnId: z.string().min(1).max(200) }),
  querystring: z.object({ sessionId: z.string().max(200).optional(), after: z.coerce.number().int().min(0).optional() }),
};

/**
 * POST /api/v2/ai/chat/stream (seed 003), and GET …/stream/{turnId} to
 * resume it. A bad body or a refused token is a 4xx JSON error from the
 * shared error handler; once the turn has started the answer is an event
 * stream (see StreamV2Stream). A client that drops leaves the turn running
 * for TURN_DETACH_SECONDS.
 */
export async function streamV2Routes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  const schema = {
    summary: 'Stream a chat reply as Server-Sent Events',
    description: 'Seed 003; see docs/protocols/stream-v2.md for the data lines, identity and session rules.',
    tags,
    body: streamChatBodySchema,
  };
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post('/api/v2/ai/chat/stream', { schema }, async (request, reply) => {
    const identity = await dependencies.authenticator.identifyHeader(request.headers.authorization);
    const session = httpSession(identity, request.body.sessionId ?? undefined);
    const turn = streamV2Turn(dependencies, session, request.body.message, request.ip);
    const reader = dependencies.turns.start(turn, { detachable: true, client: httpTurnClient(reply), wire: session.sessionId });
    await respondWithTurn(reply, reader, new StreamV2Stream(session.sessionId), { resumed: false, eventIds: true });
  });

  routes.get('/api/v2/ai/chat/stream/:turnId', { schema: resumeSchema }, async (request, reply) => {
    const identity = await dependencies.authenticator.identifyHeader(request.headers.authorization);
    const session = httpSession(identity, request.query.sessionId);
    const after = resumePoint(request, request.query.after);
    const reader = await dependencies.turns.follow(request.params.turnId, session.identity.userId, after, httpTurnClient(reply));
    if (reader === undefined) return sendError(reply, 404, notFound('Streaming reply'));
    const sessionId = (reader.wire as string | undefined) ?? session.sessionId;
    await respondWithTurn(reply, reader, new StreamV2Stream(sessionId), { resumed: true, eventIds: true });
  });

  const stopSchema = {
    summary: 'Stop a streaming chat reply',
    description: 'Aborts the upstream request at once; the partial reply is stored as interrupted. A guest sends its sessionId.',
    tags,
    params: resumeSchema.params,
    querystring: z.object({ sessionId: z.string().max(200).optional() }),
  };
  routes.post('/api/v2/ai/chat/stream/:turnId/stop', { schema: stopSchema }, async (request, reply) => {
    const identity = await dependencies.authenticator.identifyHeader(request.headers.authorization);
    const session = httpSession(identity, request.query.sessionId);
    const outcome = await dependencies.turns.stop(request.params.turnId, session.identity.userId);
    if (outcome === 'unknown') return sendError(reply, 404, notFound('Reply'));
    return reply.code(outcome === 'stopped' ? 202 : 200).send({ stopped: outcome === 'stopped' });
  });
}
