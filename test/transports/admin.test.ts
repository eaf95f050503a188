import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import {
  checkPostgres,
  checkRedis,
  createPostgresSchema,
  postgresUrl,
  redisUrl,
  requireService,
  type TemporaryPostgresSchema,
} from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { VoiceTestClient } from './voice-client.js';

const servicesAvailable =
  (await requireService('Redis (127.0.0.1:6379)', () => checkRedis())) && (await requireService('PostgreSQL', () => checkPostgres()));

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The admin API on two instances sharing one Postgres schema and one Redis
 * prefix, as a deployment of several machines runs: what an admin changes
 * on one is in force on the other at once.
 */
describe.skipIf(!servicesAvailable)('the admin API', () => {
  let fake: FakeUpstream;
  let keys: RedisTestPrefix;
  let schema: TemporaryPostgresSchema;
  let first: TestServer;
  let second: TestServer;
  let adminToken: string;
  let adminUserId: string;
  const memberId = `member-${Date.now()}`;
  let memberToken: string;
  let memberApiKey: string;
  const sockets: Socket[] = [];
  const voiceClients: VoiceTestClient[] = [];

  beforeAll(async () => {
    fake = await FakeUpstream.start({ reply: 'Hello there friend', tokenDelayMs: 1 });
    keys = redisTestPrefix();
    schema = await createPostgresSchema();
    const env = {
      JWT_SECRET: testJwtSecret,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      REDIS_URL: redisUrl(),
      RATE_LIMIT_REDIS_PREFIX: `${keys.prefix}:rate`,
      TURN_REDIS_PREFIX: keys.prefix,
      JOB_QUEUE_PREFIX: keys.prefix,
      TOKEN_BUDGET_LIFETIME: '0',
      RATE_LIMIT_DEFAULT: '1000/60',
    };
    const postgres = { url: postgresUrl(), schema: schema.schema };
    [first, second] = [await startTestServer({ env, postgres }), await startTestServer({ env, postgres })];
    // The first built-in account is the admin: its session token carries role admin.
    const signup = await call(first, 'POST', '/api/v1/auth/signup', undefined, {
      email: 'admin@example.com',
      password: 'correct horse battery',
    });
    adminToken = signup.body.token as string;
    adminUserId = (signup.body.account as { userId: string }).userId;
    memberToken = await signToken(memberId);
    expect((await turn(first, memberToken)).status).toBe(200);
    memberApiKey = (await call(first, 'POST', '/api/v1/api-keys', memberToken, { name: 'script' })).body.key as string;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const client of voiceClients) client.socket.close();
    for (const instance of [first, second]) await instance?.close();
    await fake?.close();
    await keys?.remove();
    await schema?.drop();
  });

  async function call(server: TestServer, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    // A stream answers with events, not JSON: its status is what is checked.
    const json = response.headers.get('content-type')?.includes('application/json') === true && text !== '';
    return { status: response.status, body: json ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  function turn(server: TestServer, token: string, stream = false) {
    return call(server, 'POST', '/v1/chat/completions', token, {
      model: 'gpt-4o-mini',
      stream,
      messages: [{ role: 'user', content: 'hi' }],
    });
  }

  function patchMember(changes: Record<string, unknown>, server = first) {
    return call(server, 'PATCH', `/api/v1/admin/users/${encodeURIComponent(memberId)}`, adminToken, changes);
  }

  /** Resolves with the connect_error code, or 'connected'. */
  function socketOutcome(server: TestServer, token: string): Promise<string> {
    const socket = io(`${server.url}/ai`, { forceNew: true, transports: ['websocket'], reconnection: false, auth: { token } });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
    });
  }

  /** What the member gets on REST, SSE, Socket.IO and with their API key on one instance. */
  async function memberOutcomes(server: TestServer) {
    const rest = await call(server, 'GET', '/api/v1/api-keys', memberToken);
    const sse = await turn(server, memberToken, true);
    const apiKey = await call(server, 'GET', '/api/v1/api-keys', memberApiKey);
    const code = (answer: Answer) =>
      answer.status < 300 ? answer.status : `${answer.status} ${(answer.body.error as { code?: string })?.code}`;
    return { rest: code(rest), sse: code(sse), apiKey: code(apiKey), socket: await socketOutcome(server, memberToken) };
  }

  it('refuses every admin route to a visitor (401) and a non-admin (403 forbidden), and serves an admin', async () => {
    const adminRoutes = first.app.routes.filter((route) => route.url.startsWith('/api/v1/admin') && route.method !== 'HEAD');
    expect(adminRoutes.map((route) => `${route.method} ${route.url}`).sort()).toEqual([
      'GET /api/v1/admin/audit',
      'GET /api/v1/admin/providers',
      'GET /api/v1/admin/users',
      'PATCH /api/v1/admin/users/:userId',
    ]);
    const claimAdmin = await new SignJWT({ admin: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('idp-admin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(testJwtSecret));
    for (const route of adminRoutes) {
      const path = route.url.replace(':userId', encodeURIComponent(memberId));
      const body = route.method === 'PATCH' ? { rateLimitPerMinute: null } : undefined;
      const where = `${route.method} ${route.url}`;
      expect((await call(second, route.method, path, undefined, body)).status, where).toBe(401);
      const member = await call(second, route.method, path, memberToken, body);
      expect([member.status, (member.body.error as { code: string }).code], where).toEqual([403, 'forbidden']);
      expect((await call(second, route.method, path, memberApiKey, body)).status, where).toBe(403);
      expect((await call(second, route.method, path, adminToken, body)).status, where).toBe(200);
      expect((await call(second, route.method, path, claimAdmin, body)).status, where).toBe(200);
    }
  });

  it('lists users with usage today and in total, budgets left and conversation counts', async () => {
    const users = await call(second, 'GET', '/api/v1/admin/users?limit=100', adminToken);
    const member = (users.body.data as Record<string, unknown>[]).find((user) => user.userId === memberId);
    const usage = await first.app.store.getTokenUsage(memberId);
    expect(usage.todayTokens).toBeGreaterThan(0);
    expect(member).toMatchObject({
      email: null,
      usage: { todayTokens: usage.todayTokens, totalTokens: usage.lifetimeTokens },
      conversationsCount: 1,
      disabled: false,
      budgets: { daily: { limit: null, left: null }, lifetime: { limit: null, left: null } },
    });
    const admin = (users.body.data as Record<string, unknown>[]).find((user) => user.userId === adminUserId);
    expect(admin).toMatchObject({ email: 'admin@example.com', accountRole: 'admin' });
    expect(users.body.meta).toMatchObject({ page: 1, limit: 100 });
  });

  it('refuses a disabled user at once on REST, SSE, Socket.IO and with an API key on both instances, and serves them again when enabled', async () => {
    const served = { rest: 200, sse: 200, apiKey: 200, socket: 'connected' };
    const refused = {
      rest: '403 account_disabled',
      sse: '403 account_disabled',
      apiKey: '403 account_disabled',
      socket: 'account_disabled',
    };
    expect(await memberOutcomes(second)).toEqual(served);
    const open = io(`${second.url}/ai`, { forceNew: true, transports: ['websocket'], reconnection: false, auth: { token: memberToken } });
    sockets.push(open);
    await new Promise((resolve) => open.once('connect', () => resolve(undefined)));
    // Seed 004's voice socket signs in with its handshake token on first use; seed 003's with each event's token.
    const voice = await VoiceTestClient.connect(second.url, { token: memberToken });
    voiceClients.push(voice);
    voice.socket.emit('text-message', { text: 'hello' });
    await voice.waitFor('message-received');
    const streamV2 = io(second.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    sockets.push(streamV2);
    const completed = new Promise((resolve) => streamV2.once('ai:complete', resolve));
    streamV2.emit('ai:chat', { message: 'hi', token: memberToken });
    await completed;
    const ended = Promise.all([open, voice.socket, streamV2].map((socket) => new Promise((resolve) => socket.once('disconnect', resolve))));

    const disabled = await patchMember({ disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
    expect(await memberOutcomes(first)).toEqual(refused);
    await expect.poll(() => memberOutcomes(second), { timeout: 3000 }).toEqual(refused);
    // The sockets opened before, on every namespace, are ended on the other instance.
    await ended;
    // The admin may not lock themselves out.
    const self = await call(first, 'PATCH', `/api/v1/admin/users/${adminUserId}`, adminToken, { disabled: true });
    expect([self.status, (self.body.error as { message: string }).message]).toEqual([400, expect.stringContaining('own account')]);

    expect((await patchMember({ disabled: false }, second)).status).toBe(200);
    expect(await memberOutcomes(second)).toEqual(served);
    await expect.poll(() => memberOutcomes(first), { timeout: 3000 }).toEqual(served);
  });

  it("refuses a turn over a user's own daily budget, and a turn over their own rate limit, on the other instance", async () => {
    expect((await patchMember({ tokenBudgetDaily: 1 })).status).toBe(200);
    await expect
      .poll(async () => {
        const answer = await turn(second, memberToken);
        return `${answer.status} ${(answer.body.error as { message?: string } | undefined)?.message}`;
      })
      .toBe('403 Token limit exceeded for today');
    const users = await call(first, 'GET', '/api/v1/admin/users?limit=100', adminToken);
    const member = (users.body.data as { userId: string; budgets: unknown; overrides: unknown }[]).find((user) => user.userId === memberId);
    expect(member?.budgets).toMatchObject({ daily: { limit: 1, left: 0 } });

    expect((await patchMember({ tokenBudgetDaily: null, rateLimitPerMinute: 1 })).status).toBe(200);
    await expect.poll(async () => (await turn(second, memberToken)).status).toBe(429);
    expect((await patchMember({ rateLimitPerMinute: null })).status).toBe(200);
    await expect.poll(async () => (await turn(second, memberToken)).status).toBe(200);
  });

  it('writes every change to the audit log: who, what, when, before and after', async () => {
    const audit = await call(second, 'GET', '/api/v1/admin/audit?limit=100', adminToken);
    const entries = audit.body.data as {
      actorUserId: string;
      action: string;
      targetUserId: string;
      details: Record<string, unknown>;
      createdAt: string;
    }[];
    const disabling = entries.find((entry) => (entry.details.changes as { disabled?: boolean }).disabled === true);
    expect(disabling).toMatchObject({
      actorUserId: adminUserId,
      action: 'user.update',
      targetUserId: memberId,
      details: { before: { disabled: false }, after: { disabled: true } },
    });
    expect(Date.parse(disabling!.createdAt)).toBeGreaterThan(Date.now() - 120_000);
    // Newest first: the last change (clearing the rate limit) leads.
    expect(entries[0]?.details).toMatchObject({ changes: { rateLimitPerMinute: null }, after: { rateLimitPerMinute: null } });
    // Refused changes wrote nothing: the self-disable and the unknown user.
    expect((await call(first, 'PATCH', '/api/v1/admin/users/nobody-at-all', adminToken, { disabled: true })).status).toBe(404);
    const again = await call(first, 'GET', '/api/v1/admin/audit?limit=100', adminToken);
    expect(again.body.meta).toEqual(audit.body.meta);
    expect(entries.every((entry) => entry.targetUserId !== adminUserId)).toBe(true);
  });

  it('refuses a change naming nothing or a bad value, naming the field', async () => {
    expect((await patchMember({})).status).toBe(400);
    const negative = await patchMember({ tokenBudgetDaily: -1 });
    expect([negative.status, (negative.body.error as { message: string }).message]).toEqual([
      400,
      expect.stringContaining('tokenBudgetDaily'),
    ]);
    expect((await patchMember({ disabled: 'yes' })).status).toBe(400);
    expect((await patchMember({ unknownField: 1 })).status).toBe(400);
  });

  it("reports providers' breakers, failures and time to first token over the last hour", async () => {
    const providers = await call(second, 'GET', '/api/v1/admin/providers', adminToken);
    const openai = (providers.body.providers as Record<string, unknown>[]).find((provider) => provider.provider === 'openai');
    expect(openai).toMatchObject({ configured: true, breaker: 'closed', retries: 0, failures: {} });
    const lastHour = openai?.lastHour as { turns: number; timeToFirstTokenP50Ms: number; timeToFirstTokenP99Ms: number };
    expect(lastHour.turns).toBeGreaterThanOrEqual(3);
    expect(lastHour.timeToFirstTokenP50Ms).toBeGreaterThanOrEqual(0);
    expect(lastHour.timeToFirstTokenP99Ms).toBeGreaterThanOrEqual(lastHour.timeToFirstTokenP50Ms);
  });
});
