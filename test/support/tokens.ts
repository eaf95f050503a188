import { SignJWT } from 'jose';

export const testJwtSecret = 'test-secret-that-is-at-least-32-characters-long';

/** A token as an identity provider would issue it for `userId`. */
export async function signToken(userId: string, options: { secret?: string; expiresIn?: string | number } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? testJwtSecret));
}
