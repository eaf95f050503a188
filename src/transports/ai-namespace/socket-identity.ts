import type { ExtendedError } from 'socket.io';
import type { Authenticator } from '../../auth/authenticator.js';
import { AppError, toAppError } from '../../core/errors.js';
import { anonymousIdentity, localIdentity, type Identity } from '../../core/identity.js';
import type { AiSocket } from './ai-namespace-events.js';

/**
 * The namespace's connection middleware: resolves `auth.token` once per
 * connection and keeps the identity on `socket.data`. A token that is
 * present but invalid or expired refuses the connection (the client gets
 * `connect_error` with the reason), never a guest. Without a token the
 * socket is a guest whose identity is the socket itself; each surface
 * decides whether guests may use it.
 */
export function identifySockets(authenticator: Authenticator) {
  return (socket: AiSocket, next: (error?: ExtendedError) => void): void => {
    identify(socket, authenticator).then(
      (identity) => {
        socket.data.identity = identity;
        next();
      },
      (error: unknown) => next(connectError(toAppError(error))),
    );
  };
}

async function identify(socket: AiSocket, authenticator: Authenticator): Promise<Identity> {
  // Local mode means one user; whatever token a client sends means nothing there.
  if (authenticator.localMode) return localIdentity;
  const identity = await authenticator.identify(handshakeToken(socket.handshake.auth));
  return identity ?? anonymousIdentity(socket.id);
}

/** `auth.token`, with or without a "Bearer " prefix; null and '' mean no token (a signed-out UI's state). */
function handshakeToken(auth: Record<string, unknown>): string | undefined {
  const token = auth.token;
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string') throw new AppError('unauthorized', 'auth.token must be a string');
  return token.replace(/^Bearer\s+/i, '').trim();
}

/** Socket.IO sends `message` and `data` of this error to the client's connect_error listener. */
function connectError(error: AppError): ExtendedError {
  return Object.assign(new Error(error.message), { data: { code: error.code } });
}
