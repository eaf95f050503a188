import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../core/errors.js';
import { localIdentity, type Identity } from '../core/identity.js';
import { apiKeyPrefix, hashApiKey } from './api-key-secrets.js';
import type { UserAccessList } from './user-access-list.js';

export interface AuthenticatorOptions {
  /** HS256 secret. */
  jwtSecret: string | undefined;
  /** An identity provider's JWKS URL, for RS256 tokens. */
  jwksUrl: string | undefined;
  /** Finds the owner of an unrevoked API key by its hash. */
  findApiKeyOwner: (keyHash: string) => Promise<string | undefined>;
  /** Who admins disabled: their tokens and API keys are refused (account_disabled). */
  access?: UserAccessList;
}

/**
 * One identity check for every transport: an HS256 JWT signed with
 * JWT_SECRET, an RS256 JWT from the JWKS_URL identity provider, or an API
 * key (`pk_…`). Without JWT_SECRET and JWKS_URL the server is in single-user
 * local mode. A credential that is present but invalid, expired or revoked
 * is refused, never downgraded to anonymous or local; so is any credential
 * of a user an admin disabled, checked here, where every surface resolves
 * its identities.
 */
export class Authenticator {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;

  constructor(private readonly options: AuthenticatorOptions) {
    this.secret = options.jwtSecret === undefined ? undefined : new TextEncoder().encode(options.jwtSecret);
    this.jwks = options.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUrl));
  }

  /** True when no token can be verified and every request acts as the one local user. */
  get localMode(): boolean {
    return this.secret === undefined && this.jwks === undefined;
  }

  /**
   * Resolves a bearer credential (without "Bearer "). Returns undefined when
   * none was given and the server is not in local mode, so each surface
   * decides whether guests are welcome.
   */
  async identify(token: string | undefined): Promise<Identity | undefined> {
    if (this.localMode) return localIdentity;
    if (token === undefined || token === '') return undefined;
    const identity = token.startsWith(apiKeyPrefix)
      ? { userId: await this.verifyApiKey(token), kind: 'user' as const }
      : await this.verifyJwt(token);
    this.options.access?.refuseDisabled(identity.userId);
    return identity;
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
    if (this.localMode) return localIdentity;
    return this.identify(bearerToken(authorization));
  }

  async requireHeader(authorization: string | undefined): Promise<Identity> {
    if (this.localMode) return localIdentity;
    return this.require(bearerToken(authorization));
  }

  private async verifyApiKey(key: string): Promise<string> {
    const owner = await this.options.findApiKeyOwner(hashApiKey(key));
    if (owner === undefined) throw new AppError('unauthorized', 'The API key is invalid or revoked');
    return owner;
  }

  private async verifyJwt(token: string): Promise<Identity> {
    try {
      const { payload } = await this.verifyBySigner(token);
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new AppError('unauthorized', 'The token has no subject (sub) claim');
      const admin = payload.admin === true || payload.role === 'admin';
      return { userId: payload.sub, kind: 'user', ...(admin ? { admin } : {}) };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('unauthorized', 'The token has expired');
      throw new AppError('unauthorized', 'The token is invalid');
    }
  }

  /** Pinning each key to its one algorithm refuses `alg: none` and algorithm-confusion tokens. */
  private verifyBySigner(token: string) {
    const algorithm = decodeProtectedHeader(token).alg;
    if (algorithm === 'RS256' && this.jwks !== undefined) return jwtVerify(token, this.jwks, { algorithms: ['RS256'] });
    if (this.secret !== undefined) return jwtVerify(token, this.secret, { algorithms: ['HS256'] });
    throw new AppError('unauthorized', 'The token is invalid');
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw new AppError('unauthorized', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}
