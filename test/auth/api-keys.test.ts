import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret } });
  });
  afterAll(() => server.close());

  async function call(path: string, credential: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, ...init.headers },
    });
  }

  function chat(credential: string): Promise<Response> {
    return call('/v1/chat/completions', credential, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
  }

  it('creates a key shown once, authenticates with it as its owner, and refuses it at once when revoked', async () => {
    const token = await signToken('key-owner');
    const created = await call('/api/v1/api-keys', token, { method: 'POST', body: JSON.stringify({ name: 'laptop' }) });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; prefix: string; name: string };
    expect(key.key).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    expect((await chat(key.key)).status).toBe(200);
    expect((await server.app.store.listConversations('key-owner', 'openai', { page: 1, limit: 5 })).total).toBe(1);

    const listed = (await (await call('/api/v1/api-keys', key.key)).json()) as { data: Record<string, unknown>[] };
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).not.toHaveProperty('key');
    expect(JSON.stringify(listed)).not.toContain(key.key);

    expect((await call(`/api/v1/api-keys/${key.id}`, token, { method: 'DELETE' })).status).toBe(204);
    const refused = await chat(key.key);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('revoked');
  });

  it("cannot revoke another user's key", async () => {
    const created = await call('/api/v1/api-keys', await signToken('alice'), { method: 'POST', body: JSON.stringify({ name: 'ci' }) });
    const key = (await created.json()) as { id: string; key: string };
    expect((await call(`/api/v1/api-keys/${key.id}`, await signToken('mallory'), { method: 'DELETE' })).status).toBe(404);
    expect((await chat(key.key)).status).toBe(200);
  });

  it('refuses an unknown key and a key request without a name', async () => {
    expect((await chat('pk_not-a-real-key')).status).toBe(401);
    const nameless = await call('/api/v1/api-keys', await signToken('alice'), { method: 'POST', body: '{}' });
    expect(nameless.status).toBe(400);
    expect(await nameless.text()).toContain('name');
  });
});
