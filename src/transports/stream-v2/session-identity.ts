import { randomUUID } from 'node:crypto';
import { anonymousIdentity, type Identity } from '../../core/identity.js';

/** Who a seed 003 turn acts for and which of their conversations it continues. */
export interface StreamSession {
  identity: Identity;
  /** The conversation's client key, echoed in every event of the turn. */
  sessionId: string;
}

/** Random (version 4) UUIDs only: a guest's sessionId is its capability, so it must be unguessable. */
const randomUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Over HTTP a guest has nothing but the sessionId to be recognised by, so
 * the sessionId is the guest: a random UUID continues that guest's session,
 * anything else (none, "my-session", a guessable id) starts a new one under
 * a fresh UUID, which the guest then sends back to continue.
 */
export function httpSession(identity: Identity | undefined, requestedSessionId: string | undefined): StreamSession {
  if (identity !== undefined) return { identity, sessionId: requestedSessionId ?? randomUUID() };
  const sessionId = requestedSessionId !== undefined && randomUuid.test(requestedSessionId) ? requestedSessionId : randomUUID();
  return { identity: anonymousIdentity(sessionId), sessionId };
}

/** On a socket a guest is the connection itself; its sessions last as long as the connection does. */
export function socketSession(identity: Identity | undefined, socketId: string, requestedSessionId: string | undefined): StreamSession {
  return { identity: identity ?? anonymousIdentity(socketId), sessionId: requestedSessionId ?? randomUUID() };
}

/** The `token` of an ai:chat payload, with or without a "Bearer " prefix; null and '' mean none (a signed-out UI's state). */
export function payloadToken(token: string | null | undefined): string | undefined {
  if (token === undefined || token === null) return undefined;
  return token.replace(/^Bearer\s+/i, '').trim();
}
