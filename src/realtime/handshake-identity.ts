import type { Authenticator } from '../auth/authenticator.js';
import { AppError } from '../core/errors.js';
import { anonymousIdentity, localIdentity, type Identity } from '../core/identity.js';

/**
 * Who a socket acts for, from its handshake's `auth.token`. A token that is
 * present but invalid or expired is refused (unauthorized), never taken for
 * a guest. Without a token the socket is a guest whose identity is the
 * socket itself; each surface decides whether guests may use it.
 */
export async function handshakeIdentity(authenticator: Authenticator, auth: Record<string, unknown>, socketId: string): Promise<Identity> {
  // Local mode means one user; whatever token a client sends means nothing there.
  if (authenticator.localMode) return localIdentity;
  const identity = await authenticator.identify(handshakeToken(auth));
  return identity ?? anonymousIdentity(socketId);
}

/** `auth.token`, with or without a "Bearer " prefix; null and '' mean no token (a signed-out UI's state). */
function handshakeToken(auth: Record<string, unknown>): string | undefined {
  const token = auth.token;
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string') throw new AppError('unauthorized', 'auth.token must be a string');
  return token.replace(/^Bearer\s+/i, '').trim();
}
