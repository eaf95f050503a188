import { reportUnexpected } from '../../realtime/unexpected-error.js';
import type { Namespace, Socket } from 'socket.io';
import { toAppError, type AppError } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { InFlightTurns } from '../../realtime/in-flight-turns.js';
import type { SocketSurface } from '../../realtime/socket-surface.js';
import { payloadToken, socketSession, type StreamSession } from './session-identity.js';
import type { ClientToServerEvents, ServerToClientEvents, StreamFailure } from './stream-v2-events.js';
import { chatPayloadSchema, payloadError, type ChatPayload } from './stream-v2-request.js';
import { streamV2Turn } from './stream-v2-turn.js';

type StreamV2Socket = Socket<ClientToServerEvents, ServerToClientEvents>;

/**
 * Seed 003's `ai:chat` on the default namespace. Each ai:chat is a turn of
 * its own, keyed by a per-socket counter: several may run at once (up to the
 * engine's per-user concurrency limit) and none cancels another; the seed's
 * events carry no request id, so a client tells concurrent turns apart by
 * sessionId. A disconnect aborts them all.
 */
export const streamV2Socket: SocketSurface = (io, dependencies) => {
  const namespace = io.of('/') as Namespace<ClientToServerEvents, ServerToClientEvents>;
  namespace.on('connection', (socket) => {
    const turns = new InFlightTurns();
    let turnCount = 0;
    socket.on('ai:chat', (payload) => {
      const parsed = chatPayloadSchema.safeParse(payload);
      if (!parsed.success) return emitFailure(socket, payloadError(parsed.error));
      const key = String(++turnCount);
      const signal = turns.start(key);
      runChat(socket, dependencies, parsed.data, signal)
        // The engine reports failures as events; this only keeps a bug from becoming an unhandled rejection.
        .catch((error: unknown) => emitFailure(socket, reportUnexpected(dependencies.logger, error, 'ai:chat')))
        .finally(() => turns.finish(key, signal));
    });
    socket.on('disconnect', () => {
      turns.abortAll();
    });
  });
};

async function runChat(socket: StreamV2Socket, dependencies: ServerDependencies, payload: ChatPayload, signal: AbortSignal): Promise<void> {
  let session: StreamSession;
  try {
    const identity = await dependencies.authenticator.identify(payloadToken(payload.token));
    session = socketSession(identity, socket.id, payload.sessionId ?? undefined);
  } catch (error) {
    return emitFailure(socket, toAppError(error), payload.sessionId ?? undefined);
  }
  // The socket may have gone while the token was being checked.
  if (signal.aborted) return;
  const { sessionId } = session;
  for await (const event of dependencies.engine.runTurn(
    streamV2Turn(dependencies, session, payload.message, signal, socket.handshake.address),
  )) {
    switch (event.type) {
      case 'text-delta':
        socket.emit('ai:stream', { content: event.text, sessionId });
        break;
      case 'turn-finish':
        socket.emit('ai:complete', { response: event.message.content, sessionId, messageId: event.message.id });
        break;
      case 'turn-error':
        emitFailure(socket, event.error, sessionId);
        break;
    }
  }
}

/** `sessionId` is the failed ai:chat's, sent or issued, so a client running several turns knows which one failed. */
function emitFailure(socket: StreamV2Socket, error: AppError, sessionId?: string): void {
  const failure: StreamFailure = { error: error.message, code: error.code };
  if (sessionId !== undefined) failure.sessionId = sessionId;
  if (error.field !== undefined) failure.field = error.field;
  if (error.retryAfterSeconds !== undefined) failure.retryAfter = error.retryAfterSeconds;
  socket.emit('ai:error', failure);
}
