import { createHash, randomBytes } from 'node:crypto';

/** Every API key starts with this, so the authenticator can tell one from a JWT. */
export const apiKeyPrefix = 'pk_';

export interface GeneratedApiKey {
  /** Shown to the user once; never stored. */
  key: string;
  hash: string;
  /** The first characters, stored to tell keys apart. */
  prefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const key = `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 10) };
}

/** A key has 256 random bits, so a fast hash is enough: there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
