import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { SignJWT } from 'jose';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.js';
import { AppError, invalidRequest } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { Account } from '../../store/chat-store.js';

const tags = ['accounts'];
/** Sign-in attempts per client address and minute: enough for a person, too few to guess passwords. */
const signInAttemptsPerMinute = 10;

const credentials = z.object({ email: z.email().max(254), password: z.string().max(1000) });
const sessionSchema = z.object({
  token: z.string(),
  expiresAt: z.string(),
  account: z.object({ userId: z.string(), email: z.string(), role: z.enum(['admin', 'member']) }),
});

/**
 * Built-in accounts, so a small team needs no identity provider: sign up
 * (the first account is the admin; others only while SIGNUP is on), sign
 * in, and who am I. A session is an HS256 JWT signed with JWT_SECRET, so
 * every surface accepts it as it accepts any token. Without JWT_SECRET the
 * server is in local mode (or trusts an outside identity provider) and has
 * no accounts.
 */
export function accountRoutes(
  app: FastifyInstance,
  { authenticator, config, store }: Pick<ServerDependencies, 'authenticator' | 'config' | 'store'>,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const signInLimiter = new RateLimiterMemory({ points: signInAttemptsPerMinute, duration: 60 });
  const secret = config.jwtSecret === undefined ? undefined : new TextEncoder().encode(config.jwtSecret);

  const sessionFor = async (account: Account) => {
    if (secret === undefined) throw accountsOff();
    const expiresAt = new Date(Date.now() + config.accounts.tokenHours * 3_600_000);
    const token = await new SignJWT({ email: account.email, role: account.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(account.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(secret);
    return { token, expiresAt: expiresAt.toISOString(), account: { userId: account.userId, email: account.email, role: account.role } };
  };

  routes.post(
    '/api/v1/auth/signup',
    { schema: { summary: 'Create an account and sign in', tags, body: credentials, response: { 201: sessionSchema } } },
    async (request, reply) => {
      if (secret === undefined) throw accountsOff();
      const problem = passwordProblem(request.body.password);
      if (problem !== undefined) throw invalidRequest(`password: ${problem}`, 'password');
      if (!config.accounts.signup && (await store.countAccounts()) > 0) {
        throw new AppError('forbidden', 'Sign-up is turned off on this server (SIGNUP=false); ask its admin for an account');
      }
      const account = await store.createAccount({
        email: request.body.email.toLowerCase(),
        passwordHash: await hashPassword(request.body.password),
      });
      return reply.status(201).send(await sessionFor(account));
    },
  );

  routes.post(
    '/api/v1/auth/signin',
    { schema: { summary: 'Sign in with email and password', tags, body: credentials, response: { 200: sessionSchema } } },
    async (request) => {
      if (secret === undefined) throw accountsOff();
      try {
        await signInLimiter.consume(request.ip);
      } catch {
        throw new AppError('rate_limited', `At most ${signInAttemptsPerMinute} sign-in attempts a minute; wait a minute`, {
          retryAfterSeconds: 60,
        });
      }
      const account = await store.findAccount(request.body.email.toLowerCase());
      // The same answer, after the same work, for an unknown email and a wrong password.
      const valid = await verifyPassword(request.body.password, account?.passwordHash ?? unknownAccountHash);
      if (account === undefined || !valid) throw new AppError('unauthorized', 'Wrong email or password');
      return sessionFor(account);
    },
  );

  routes.get(
    '/api/v1/auth/me',
    { schema: { summary: 'The signed-in identity', tags, response: { 200: z.object({ userId: z.string(), local: z.boolean() }) } } },
    async (request) => {
      const identity = await authenticator.requireHeader(request.headers.authorization);
      return { userId: identity.userId, local: authenticator.localMode };
    },
  );
}

function accountsOff(): AppError {
  return invalidRequest('Accounts need JWT_SECRET: without it the server runs in local mode or trusts an outside identity provider');
}

/** A well-formed hash no password matches, verified for unknown emails so they take as long as wrong passwords. */
const unknownAccountHash = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
