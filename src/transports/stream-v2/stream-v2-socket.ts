import { reportUnexpected } from '../../realtime/unexpected-error.js';
import { socketErrorDetails } from '../../realtime/socket-error-details.js';
import type { Namespace, Socket } from 'socket.io';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { TurnClient } from '../../chat/turns.js';
import { AppError, notFound, toAppError } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { SocketSurface } from '../../realtime/socket-surface.js';
import { socketTurnClient } from '../../realtime/socket-turn-client.js';
import { turnResumeSchema } from '../../realtime/turn-resume-payload.js';
import { rememberSignedIn } from '../../realtime/signed-in-users.js';
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
 * sessionId. A disconnect leaves them running for TURN_DETACH_SECONDS; a
 * client that comes back resumes one with `turn:resume` (or, within
 * SOCKET_RECOVERY_SECONDS, gets what it missed by itself).
 */
export const streamV2Socket: SocketSurface = (io, dependencies) => {
  const namespace = io.of('/') as Namespace<ClientToServerEvents, ServerToClientEvents>;
  namespace.on('connection', (socket) => {
    const client = socketTurnClient(socket, dependencies.turns);
    socket.on('ai:chat', (payload) => {
      const parsed = chatPayloadSchema.safeParse(payload);
      if (!parsed.success) return emitFailure(socket, payloadError(parsed.error));
      runChat(socket, dependencies, parsed.data, client)
        // The engine reports failures as events; this only keeps a bug from becoming an unhandled rejection.
        .catch((error: unknown) => emitFailure(socket, reportUnexpected(dependencies.logger, error, 'ai:chat')));
    });
    socket.on('turn:resume', (payload) => {
      resumeChat(socket, dependencies, payload, client).catch((error: unknown) =>
        emitFailure(socket, reportUnexpected(dependencies.logger, error, 'turn:resume')),
      );
    });
  });
};

async function runChat(
  socket: StreamV2Socket,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'turns'>,
  payload: ChatPayload,
  client: TurnClient,
): Promise<void> {
  let session: StreamSession;
  try {
    const identity = await dependencies.authenticator.identify(payloadToken(payload.token));
    session = socketSession(identity, socket.id, payload.sessionId ?? undefined);
    rememberSignedIn(socket, session.identity);
  } catch (error) {
    return emitFailure(socket, toAppError(error), payload.sessionId ?? undefined);
  }
  // The socket may have gone while the token was being checked.
  if (client.gone.aborted) return;
  const { sessionId } = session;
  const turn = streamV2Turn(dependencies, session, payload.message, socket.handshake.address);
  await emitTurn(socket, dependencies.turns.start(turn, { detachable: true, client, wire: sessionId }), sessionId);
}

/**
 * `turn:resume { turnId, after, token? }`: one of the caller's turns, from
 * any connection. A guest is its connection here, so only a signed-in user
 * resumes from a new one.
 */
async function resumeChat(
  socket: StreamV2Socket,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'turns'>,
  payload: unknown,
  client: TurnClient,
): Promise<void> {
  const resume = turnResumeSchema.safeParse(payload);
  if (!resume.success) return emitFailure(socket, payloadError(resume.error));
  let userId: string;
  try {
    const identity = await dependencies.authenticator.identify(payloadToken(tokenOf(payload)));
    const { identity: reader } = socketSession(identity, socket.id, undefined);
    rememberSignedIn(socket, reader);
    userId = reader.userId;
  } catch (error) {
    return emitFailure(socket, toAppError(error));
  }
  const reader = await dependencies.turns.follow(resume.data.turnId, userId, resume.data.after, client);
  if (reader === undefined) return emitFailure(socket, notFound('Turn'));
  await emitTurn(socket, reader, reader.wire as string);
}

function tokenOf(payload: unknown): string | null | undefined {
  const token = (payload as { token?: unknown }).token;
  return typeof token === 'string' || token === null ? token : undefined;
}

/** Emits a turn as seed 003's socket events; a resumed reader skips what the client already has. */
async function emitTurn(socket: StreamV2Socket, reader: TurnReader, sessionId: string): Promise<void> {
  for await (const event of reader) {
    if (reader.replaying) continue;
    switch (event.type) {
      case 'text-delta':
        socket.emit('ai:stream', { content: event.text, sessionId, messageId: reader.turnId!, seq: reader.seq });
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
  const failure: StreamFailure = { error: error.message, ...socketErrorDetails(error) };
  if (sessionId !== undefined) failure.sessionId = sessionId;
  socket.emit('ai:error', failure);
}
