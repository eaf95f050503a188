import { jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../core/errors.js';
import { localIdentity, type Identity } from '../core/identity.js';

export interface AuthenticatorOptions {
  /** HS256 secret; without it Parley runs in single-user local mode. */
  jwtSecret: string | undefined;
}

/**
 * One identity check for every transport. A token that is present but
 * invalid or expired is refused, never downgraded to anonymous or local.
 */
export class Authenticator {
  private readonly secret: Uint8Array | undefined;

  constructor(options: AuthenticatorOptions) {
    this.secret = options.jwtSecret === undefined ? undefined : new TextEncoder().encode(options.jwtSecret);
  }

  /** True when there is no JWT_SECRET and every request acts as the one local user. */
  get localMode(): boolean {
    return this.secret === undefined;
  }

  /**
   * Resolves a bearer token (the raw token, without "Bearer "). Returns
   * undefined when no token was given and the server is not in local mode,
   * so each surface decides whether guests are welcome.
   */
  async identify(token: string | undefined): Promise<Identity | undefined> {
    if (this.secret === undefined) return localIdentity;
    if (token === undefined || token === '') return undefined;
    return { userId: await this.verify(token, this.secret), kind: 'user' };
  }

  /** Like identify, for surfaces that require a signed-in user. */
  async require(token: string | undefined): Promise<Identity> {
    const identity = await this.identify(token);
    if (identity === undefined) throw new AppError('unauthorized', 'Authentication required: send Authorization: Bearer <token>');
    return identity;
  }

  /**
   * Resolves an `Authorization` header. In local mode the header is not even
   * parsed: OpenAI clients always send some key, which means nothing there.
   */
  async identifyHeader(authorization: string | undefined): Promise<Identity | undefined> {
    if (this.secret === undefined) return localIdentity;
    return this.identify(bearerToken(authorization));
  }

  async requireHeader(authorization: string | undefined): Promise<Identity> {
    if (this.secret === undefined) return localIdentity;
    return this.require(bearerToken(authorization));
  }

  private async verify(token: string, secret: Uint8Array): Promise<string> {
    try {
      // Pinning the algorithm refuses `alg: none` and algorithm-confusion tokens.
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new AppError('unauthorized', 'The token has no subject (sub) claim');
      return payload.sub;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('unauthorized', 'The token has expired');
      throw new AppError('unauthorized', 'The token is invalid');
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw new AppError('unauthorized', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}
