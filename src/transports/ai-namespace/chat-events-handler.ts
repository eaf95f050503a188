import { reportUnexpected } from '../../realtime/unexpected-error.js';
import { socketErrorDetails } from '../../realtime/socket-error-details.js';
import type { ChatEvent } from '../../chat/chat-events.js';
import { AppError } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';
import { withClientOptions } from '../../config/surface-defaults.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { StartRequest, TurnClient } from '../../chat/turns.js';
import { InFlightTurns } from '../../realtime/in-flight-turns.js';
import type { ConversationTarget } from '../../store/chat-store.js';
import type { AiSocket } from './ai-namespace-events.js';
import { chatStartSchema, parsePayload, type ChatStartRequest } from './ai-namespace-payloads.js';
import { conversationTitle } from '../../chat/conversation-titles.js';

/** What one chat:start turn has announced so far. */
interface ChatTurnState {
  conversationId: string | null;
  messageId: string | null;
  /** Whether chat:stopped was sent for this turn. */
  stopAnswered: boolean;
}

/** What resuming a chat:start turn needs (see turn:resume): nothing beyond its kind. */
export interface ChatWire {
  kind: 'chat';
}

const chatWire: ChatWire = { kind: 'chat' };

/**
 * Seed 001's `chat:start` and `chat:stop`. Each chat:start is a turn of its
 * own under a per-socket key, so chat:stop aborts the socket's chat turns
 * and never its ai_requests. Every stopped turn answers chat:stopped once
 * its partial reply is stored. A disconnect does not stop them: they go on
 * for TURN_DETACH_SECONDS for the client to come back.
 */
export function registerChatEvents(socket: AiSocket, dependencies: ServerDependencies, client: TurnClient): void {
  const turns = new InFlightTurns();
  let started = 0;
  socket.on('chat:start', (payload: unknown) => {
    const request = authorizedChatStart(socket.data.identity, payload);
    if (request instanceof AppError) return emitChatError(socket, request);
    const key = `chat:start#${++started}`;
    const signal = turns.start(key);
    runChatTurn(socket, dependencies, request, signal, client)
      // The engine reports failures as events; this only keeps a bug from going unanswered.
      .catch((error: unknown) => emitChatError(socket, reportUnexpected(dependencies.logger, error, 'chat:start')))
      .finally(() => turns.finish(key, signal));
  });
  socket.on('chat:stop', () => {
    // A turn already stopping is no longer running: a second chat:stop finds nothing and says so.
    if (turns.abortAll() === 0) socket.emit('chat:stopped', { conversationId: null, messageId: null });
  });
}

/**
 * The payload's userId is a claim, never an identity: a signed-in socket may
 * only act as its token's user, a guest may not chat at all, and in local
 * mode the one local user acts whatever the payload says.
 */
function authorizedChatStart(identity: Identity, payload: unknown): ChatStartRequest | AppError {
  if (identity.kind === 'anonymous') {
    return new AppError('unauthorized', 'WebSocket connections must authenticate: connect with auth: { token } to use chat:start');
  }
  const request = parsePayload(chatStartSchema, payload);
  if (request instanceof AppError) return request;
  if (identity.kind === 'user' && request.userId !== undefined && request.userId !== identity.userId) {
    return new AppError('forbidden', 'userId does not match the authenticated user', { field: 'userId' });
  }
  return request;
}

async function runChatTurn(
  socket: AiSocket,
  dependencies: Pick<ServerDependencies, 'config' | 'turns'>,
  request: ChatStartRequest,
  signal: AbortSignal,
  client: TurnClient,
): Promise<void> {
  const turn: StartRequest = {
    identity: socket.data.identity,
    target: chatTarget(request),
    content: request.message,
    options: withClientOptions(dependencies.config.surfaces.aiModule, request),
    signal,
    client: { bucket: 'ai-module', address: socket.handshake.address },
  };
  const state = await emitChatTurn(socket, dependencies.turns.start(turn, { detachable: true, client, wire: chatWire }));
  // A stop that came too late to cut the reply is still answered.
  if (signal.aborted && !state.stopAnswered) {
    socket.emit('chat:stopped', { conversationId: state.conversationId, messageId: state.messageId });
  }
}

/** Emits a chat:start turn as seed 001's events; a resumed reader skips what the client already has. */
export async function emitChatTurn(socket: AiSocket, reader: TurnReader): Promise<ChatTurnState> {
  const state: ChatTurnState = { conversationId: null, messageId: null, stopAnswered: false };
  for await (const event of reader) emitChatEvent(socket, event, state, reader);
  return state;
}

/**
 * Any of the user's conversations may be continued by id, whichever API
 * created it; the store refuses another user's as not_found.
 */
function chatTarget(request: ChatStartRequest): ConversationTarget {
  if (request.conversationId !== undefined) return { kind: 'existing', conversationId: request.conversationId };
  return { kind: 'new', create: { surface: 'ai-module', title: conversationTitle(request.message) } };
}

function emitChatEvent(socket: AiSocket, event: ChatEvent, state: ChatTurnState, reader: TurnReader): void {
  if (event.type === 'turn-start') state.conversationId = event.conversation.id;
  else if (event.type === 'message-start') state.messageId = event.messageId;
  if (reader.replaying) return;
  switch (event.type) {
    case 'turn-start': {
      const conversationId = event.conversation.id;
      if (event.conversationCreated) socket.emit('chat:conversation', { conversationId });
      socket.emit('chat:user-message', { messageId: event.userMessage.id, content: event.userMessage.content, conversationId });
      break;
    }
    case 'text-delta':
      socket.emit('chat:message', {
        content: event.text,
        conversationId: state.conversationId!,
        messageId: state.messageId!,
        seq: reader.seq,
      });
      break;
    case 'turn-finish': {
      const { message } = event;
      const totalTokens = (message.promptTokens ?? 0) + (message.completionTokens ?? 0);
      socket.emit('chat:end', { totalTokens, model: message.model ?? '', messageId: message.id, conversationId: message.conversationId });
      break;
    }
    case 'turn-error':
      emitChatError(socket, event.error);
      break;
    case 'turn-abort':
      state.stopAnswered = true;
      socket.emit('chat:stopped', { conversationId: state.conversationId, messageId: event.message?.id ?? null });
      break;
  }
}

export function emitChatError(socket: AiSocket, error: AppError): void {
  socket.emit('chat:error', { message: error.message, ...socketErrorDetails(error) });
}
