import type { ExtendedError } from 'socket.io';
import type { Authenticator } from '../../auth/authenticator.js';
import { toAppError, type AppError } from '../../core/errors.js';
import { handshakeIdentity } from '../../realtime/handshake-identity.js';
import { rememberSignedIn } from '../../realtime/signed-in-users.js';
import type { AiSocket } from './ai-namespace-events.js';

/**
 * The namespace's connection middleware: resolves `auth.token` once per
 * connection and keeps the identity on `socket.data`. A token that is
 * present but invalid or expired refuses the connection (the client gets
 * `connect_error` with the reason), never a guest.
 */
export function identifySockets(authenticator: Authenticator) {
  return (socket: AiSocket, next: (error?: ExtendedError) => void): void => {
    handshakeIdentity(authenticator, socket.handshake.auth, socket.id).then(
      (identity) => {
        socket.data.identity = identity;
        rememberSignedIn(socket, identity);
        next();
      },
      (error: unknown) => next(connectError(toAppError(error))),
    );
  };
}

/** Socket.IO sends `message` and `data` of this error to the client's connect_error listener. */
function connectError(error: AppError): ExtendedError {
  return Object.assign(new Error(error.message), { data: { code: error.code } });
}
