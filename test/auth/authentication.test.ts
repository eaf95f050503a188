import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** An unsigned token, as an attacker would forge one. */
function unsignedToken(userId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

describe('authentication with JWT_SECRET set', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret } });
  });
  afterAll(() => server.close());

  async function chat(authorization?: string): Promise<Response> {
    return fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body,
    });
  }

  it('accepts a valid token and stores the turn under its subject', async () => {
    const response = await chat(`Bearer ${await signToken('alice')}`);
    expect(response.status).toBe(200);
    const { total } = await server.app.store.listConversations('alice', 'openai', { page: 1, limit: 1 });
    expect(total).toBe(1);
  });

  it.each([
    ['no token', undefined, 'Authentication required'],
    ['a malformed header', 'Token abc', 'Bearer'],
    [
      'a forged signature',
      async () => `Bearer ${await signToken('mallory', { secret: 'another-secret-that-is-32-characters-long' })}`,
      'invalid',
    ],
    ['an expired token', async () => `Bearer ${await signToken('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`, 'expired'],
    ['alg: none', () => `Bearer ${unsignedToken('alice')}`, 'invalid'],
  ])('refuses %s with 401', async (_name, header, mention) => {
    const authorization = typeof header === 'function' ? await header() : header;
    const response = await chat(authorization);
    expect(response.status).toBe(401);
    const error = ((await response.json()) as { error: { code: string; message: string; type: string } }).error;
    expect(error.code).toBe('unauthorized');
    expect(error.type).toBe('authentication_error');
    expect(error.message).toContain(mention);
  });
});

describe('single-user local mode', () => {
  it('acts as the local user whatever key an OpenAI client sends', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-whatever' },
        body,
      });
      expect(response.status).toBe(200);
      expect((await server.app.store.getUsage('local')).messagesCount).toBe(2);
    } finally {
      await server.close();
    }
  });
});
