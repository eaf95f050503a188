import { randomBytes, randomUUID } from 'node:crypto';
import { signToken } from '../support/tokens.js';

/** Someone who is not the owner, as a request would present them: an Authorization token, or none. */
export interface Intruder {
  name: string;
  /** The bearer credential; undefined for a visitor who sends none. */
  token: string | undefined;
}

/**
 * Everyone the authorization matrix tries against the owner's records: a
 * real other user, a visitor, and forged or dead credentials that claim to
 * be the owner (an expired token and one signed with another secret both
 * carry the owner's subject, the strongest thing a forger could send).
 */
export async function intrudersOf(ownerId: string, revokedApiKey: string): Promise<Intruder[]> {
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
  return [
    { name: 'another user', token: await signToken(`intruder-${randomUUID()}`) },
    { name: 'anonymous', token: undefined },
    { name: 'expired token', token: await signToken(ownerId, { expiresIn: anHourAgo }) },
    { name: 'bad signature', token: await signToken(ownerId, { secret: 'not-the-server-secret-but-32-characters-long' }) },
    { name: 'unknown API key', token: `pk_${randomBytes(32).toString('base64url')}` },
    { name: 'revoked API key', token: revokedApiKey },
  ];
}
