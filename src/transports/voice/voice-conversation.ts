import type { ExtendedError, Socket } from 'socket.io';
import type { Authenticator } from '../../auth/authenticator.js';
import { AppError, invalidRequest, toAppError } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';
import { uuidPattern } from '../../http/resource-id.js';
import { handshakeIdentity } from '../../realtime/handshake-identity.js';
import { rememberSignedIn } from '../../realtime/signed-in-users.js';
import type { ChatStore } from '../../store/chat-store.js';

/** A voice connection that joined one of its user's conversations at the handshake. */
export interface JoinedConversation {
  identity: Identity;
  conversationId: string;
}

/**
 * The voice assistant's handshake option `auth.conversationId`: the
 * connection's turns go to that conversation of the signed-in user (any
 * surface, typically a chat session the web app shows) instead of one of
 * their own. Checked once, here, so a client learns at connect time that it
 * cannot have it, rather than talking into a conversation it did not ask
 * for. Unknown ids, malformed ids and other users' conversations are
 * refused alike (not_found), as on REST. Without the option nothing is
 * looked up and the socket connects as before (seeds 003 and 004).
 */
export function joinConversations(authenticator: Authenticator, store: ChatStore, joined: WeakMap<Socket, JoinedConversation>) {
  return (socket: Socket, next: (error?: ExtendedError) => void): void => {
    const requested: unknown = socket.handshake.auth.conversationId;
    if (requested === undefined || requested === null || requested === '') return next();
    joinedConversation(authenticator, store, socket, requested).then(
      (conversation) => {
        joined.set(socket, conversation);
        rememberSignedIn(socket, conversation.identity);
        next();
      },
      (error: unknown) => next(connectError(toAppError(error))),
    );
  };
}

async function joinedConversation(
  authenticator: Authenticator,
  store: ChatStore,
  socket: Socket,
  requested: unknown,
): Promise<JoinedConversation> {
  if (typeof requested !== 'string') throw invalidRequest('auth.conversationId must be a string (a conversation id)', 'conversationId');
  const identity = await handshakeIdentity(authenticator, socket.handshake.auth, socket.id);
  if (identity.kind === 'anonymous') {
    throw new AppError('unauthorized', 'auth.conversationId needs a signed-in user: connect with auth: { token, conversationId }', {
      field: 'conversationId',
    });
  }
  const conversation = uuidPattern.test(requested) ? await store.getConversation(identity.userId, requested.toLowerCase()) : undefined;
  if (conversation === undefined) throw new AppError('not_found', 'Conversation not found', { field: 'conversationId' });
  return { identity, conversationId: conversation.id };
}

/** Socket.IO sends `message` and `data` of this error to the client's connect_error listener. */
function connectError(error: AppError): ExtendedError {
  const data: { code: string; field?: string } = { code: error.code };
  if (error.field !== undefined) data.field = error.field;
  return Object.assign(new Error(error.message), { data });
}

/**
 * A connection's conversation is chosen at the handshake, once: an event
 * payload naming one is refused rather than ignored, so a client that meant
 * to switch does not talk into the old conversation unawares.
 */
export function refuseConversationSwitch(event: string, payload: unknown): void {
  if (typeof payload === 'object' && payload !== null && Object.hasOwn(payload, 'conversationId')) {
    throw invalidRequest(
      `${event} cannot choose a conversation: a connection's is set at the handshake (auth.conversationId); reconnect to change it`,
      'conversationId',
    );
  }
}
