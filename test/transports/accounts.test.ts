import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { testJwtSecret } from '../support/tokens.js';

interface Session {
  token: string;
  account: { userId: string; email: string; role: string };
}

describe('built-in accounts', () => {
  let server: TestServer;
  let closed: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret } });
    closed = await startTestServer({ env: { JWT_SECRET: testJwtSecret, SIGNUP: 'false' } });
  });
  afterAll(async () => {
    await server.close();
    await closed.close();
  });

  const post = (target: TestServer, path: string, body: unknown) =>
    fetch(`${target.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('signs up (the first account is the admin) and signs in; the session token works on every API', async () => {
    const signup = await post(server, '/api/v1/auth/signup', { email: 'Ada@Example.com', password: 'correct horse' });
    expect(signup.status).toBe(201);
    const session = (await signup.json()) as Session;
    expect(session.account).toMatchObject({ email: 'ada@example.com', role: 'admin' });
    const second = (await (
      await post(server, '/api/v1/auth/signup', { email: 'bo@example.com', password: 'battery staple' })
    ).json()) as Session;
    expect(second.account.role).toBe('member');

    const signin = await post(server, '/api/v1/auth/signin', { email: 'ada@example.com', password: 'correct horse' });
    expect(signin.status).toBe(200);
    const token = ((await signin.json()) as Session).token;
    const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toEqual({ userId: session.account.userId, local: false });
    // The same token on the OpenAI-compatible API and on seed 002's sessions.
    const client = new OpenAI({ apiKey: token, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'parley-demo', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.choices[0]?.message.content).toContain('demo model');
    const sessions = await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(((await sessions.json()) as { user_id: string }).user_id).toBe(session.account.userId);
  });

  it('says clearly what is wrong: a weak password, a taken email, a bad email, wrong credentials', async () => {
    const weak = await post(server, '/api/v1/auth/signup', { email: 'cy@example.com', password: 'short' });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { error: { message: string } }).error.message).toMatch(/^password: must be at least 8/);
    await post(server, '/api/v1/auth/signup', { email: 'dee@example.com', password: 'long enough' });
    const taken = await post(server, '/api/v1/auth/signup', { email: 'DEE@example.com', password: 'long enough' });
    expect(taken.status).toBe(400);
    expect(((await taken.json()) as { error: { message: string } }).error.message).toContain('already exists');
    expect((await post(server, '/api/v1/auth/signup', { email: 'not-an-email', password: 'long enough' })).status).toBe(400);
    for (const attempt of [
      { email: 'dee@example.com', password: 'wrong password' },
      { email: 'nobody@example.com', password: 'long enough' },
    ]) {
      const refused = await post(server, '/api/v1/auth/signin', attempt);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ error: { code: 'unauthorized', message: 'Wrong email or password' } });
    }
  });

  it('limits sign-in attempts per client address', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      statuses.push((await post(closed, '/api/v1/auth/signin', { email: 'x@example.com', password: `guess ${attempt}!` })).status);
    }
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
  });

  it('with SIGNUP=false lets only the first account (the admin) sign up', async () => {
    expect((await post(closed, '/api/v1/auth/signup', { email: 'root@example.com', password: 'first of all' })).status).toBe(201);
    const refused = await post(closed, '/api/v1/auth/signup', { email: 'late@example.com', password: 'second one' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('SIGNUP=false');
  });
});

describe('accounts in local mode', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('are off, saying why', async () => {
    const response = await fetch(`${server.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com', password: 'long enough' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('JWT_SECRET');
  });
});
