import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

/** Share links over HTTP, with authentication on: made and revoked by the owner only, read signed out. */
describe('share links', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret } });
    alice = await signToken('alice');
    bob = await signToken('bob');
  });
  afterAll(() => server.close());

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  async function aliceConversation(): Promise<string> {
    const session = (await (await call('POST', '/api/v1/chat/sessions', alice, { title: 'Trip plans' })).json()) as { id: string };
    const sent = await call('POST', '/api/v1/chat/messages', alice, { session_id: session.id, content: 'Where should I go in May?' });
    expect(sent.status).toBe(200);
    return session.id;
  }

  it('reads a shared conversation signed out, until its owner revokes the link', async () => {
    const conversationId = await aliceConversation();
    const made = await call('POST', `/api/v1/conversations/${conversationId}/share-links`, alice);
    expect(made.status).toBe(201);
    const link = (await made.json()) as { token: string; path: string };
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const shared = await call('GET', link.path);
    expect(shared.status).toBe(200);
    const body = (await shared.json()) as { title: string; messages: { role: string; content: string }[] };
    expect(body.title).toBe('Trip plans');
    expect(body.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(body.messages[0]?.content).toBe('Where should I go in May?');
    expect(JSON.stringify(body)).not.toContain('alice');

    const listed = (await (await call('GET', `/api/v1/conversations/${conversationId}/share-links`, alice)).json()) as { data: unknown[] };
    expect(listed.data).toHaveLength(1);
    expect((await call('DELETE', `/api/v1/share-links/${link.token}`, alice)).status).toBe(204);
    expect((await call('GET', link.path)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/share-links/${link.token}`, alice)).status).toBe(404);
  });

  it("refuses anyone but the owner: another user's conversation is not found, a link cannot be revoked by another", async () => {
    const conversationId = await aliceConversation();
    expect((await call('POST', `/api/v1/conversations/${conversationId}/share-links`, bob)).status).toBe(404);
    expect((await call('GET', `/api/v1/conversations/${conversationId}/share-links`, bob)).status).toBe(404);
    expect((await call('POST', `/api/v1/conversations/${conversationId}/share-links`)).status).toBe(401);
    expect((await call('POST', '/api/v1/conversations/not-a-uuid/share-links', alice)).status).toBe(404);
    const link = (await (await call('POST', `/api/v1/conversations/${conversationId}/share-links`, alice)).json()) as { token: string };
    expect((await call('DELETE', `/api/v1/share-links/${link.token}`, bob)).status).toBe(404);
    expect((await call('GET', `/api/v1/shared/${link.token}`)).status).toBe(200);
    expect((await call('GET', '/api/v1/shared/guessed-token')).status).toBe(404);
  });
});
