import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ChatEvent } from '../../core/chat-events.js';
import { sendError } from '../../http/error-handler.js';
import { clientDisconnectSignal, openEventStream } from '../../http/event-stream-response.js';
import { httpStatusByCode } from '../../http/http-errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { httpSession } from './session-identity.js';
import { StreamV2Lines } from './stream-v2-lines.js';
import { streamChatBodySchema } from './stream-v2-request.js';
import { streamV2Turn } from './stream-v2-turn.js';

/**
 * POST /api/v2/ai/chat/stream (seed 003). A bad body or a refused token is a
 * 4xx JSON error from the shared error handler; once the turn has started
 * (the user message is stored) the answer is an event stream, and a later
 * failure, the provider refusing included, is its last `data:` line.
 */
export async function streamV2Routes(app: FastifyInstance, dependencies: ServerDependencies): Promise<void> {
  const schema = {
    summary: 'Stream a chat reply as Server-Sent Events',
    description: 'Seed 003; see docs/protocols/stream-v2.md for the data lines, identity and session rules.',
    tags: ['stream-v2'],
    body: streamChatBodySchema,
  };
  app.withTypeProvider<ZodTypeProvider>().post('/api/v2/ai/chat/stream', { schema }, async (request, reply) => {
    const identity = await dependencies.authenticator.identifyHeader(request.headers.authorization);
    const session = httpSession(identity, request.body.sessionId ?? undefined);
    const events = dependencies.engine.runTurn(
      streamV2Turn(dependencies, session, request.body.message, clientDisconnectSignal(reply), request.ip),
    );
    await writeEventStream(reply, events, new StreamV2Lines(session.sessionId));
  });
}

async function writeEventStream(reply: FastifyReply, events: AsyncIterable<ChatEvent>, lines: StreamV2Lines): Promise<void> {
  const raw = reply.raw;
  let opened = false;
  for await (const event of events) {
    switch (event.type) {
      case 'turn-start':
        openEventStream(reply);
        opened = true;
        break;
      case 'text-delta':
        raw.write(lines.content(event.text));
        break;
      case 'turn-finish':
        raw.end(lines.done());
        break;
      case 'turn-error':
        if (opened) raw.end(lines.error(event.error));
        else sendError(reply, httpStatusByCode[event.error.code], event.error);
        break;
      case 'turn-abort':
        // The client is gone; the engine has stored the partial reply.
        if (!raw.writableEnded) raw.end();
        break;
    }
  }
}
