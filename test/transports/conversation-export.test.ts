import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

/** Export a seed 002 session as JSON and Markdown, import the JSON back, and read it through seed 002 again. */
describe('conversation export and import', () => {
  let server: TestServer;
  let alice: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret } });
    alice = await signToken('alice');
  });
  afterAll(() => server.close());

  const call = (method: string, path: string, body?: unknown, token = alice) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  async function session(): Promise<string> {
    const created = (await (await call('POST', '/api/v1/chat/sessions', { title: 'Recipes' })).json()) as { id: string };
    for (const content of ['How do I make bread?', 'And butter?']) {
      expect((await call('POST', '/api/v1/chat/messages', { session_id: created.id, content })).status).toBe(200);
    }
    return created.id;
  }

  it('exports JSON that imports back as a new conversation with the same messages, readable through its API', async () => {
    const id = await session();
    const exported = await call('GET', `/api/v1/conversations/${id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain(`conversation-${id}.json`);
    const file = (await exported.json()) as {
      format: string;
      conversation: { surface: string };
      messages: { role: string; content: string }[];
    };
    expect(file).toMatchObject({ format: 'parley.conversation', version: 1, conversation: { title: 'Recipes', surface: 'chat-sessions' } });
    expect(file.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);

    const imported = await call('POST', '/api/v1/conversations/import', file);
    expect(imported.status).toBe(201);
    const { conversationId, messageCount } = (await imported.json()) as { conversationId: string; messageCount: number };
    expect(conversationId).not.toBe(id);
    expect(messageCount).toBe(4);
    const history = (await (await call('GET', `/api/v1/chat/messages/${conversationId}`)).json()) as {
      messages: { role: string; content: string }[];
    };
    expect(history.messages.map(({ role, content }) => ({ role, content }))).toEqual(
      file.messages.map(({ role, content }) => ({ role, content })),
    );
    // Another user cannot export it.
    expect((await call('GET', `/api/v1/conversations/${conversationId}/export`, undefined, await signToken('bob'))).status).toBe(404);
  });

  it('exports Markdown with each message under its speaker', async () => {
    const id = await session();
    const markdown = await call('GET', `/api/v1/conversations/${id}/export?format=markdown`);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    const text = await markdown.text();
    expect(text.startsWith('# Recipes\n')).toBe(true);
    expect(text).toContain('## You\n\nHow do I make bread?');
    expect(text).toMatch(/## Assistant \(parley-demo\)\n\n/);
  });

  it('refuses an import that is not an export, or that its API could not show, naming the field', async () => {
    const notJson = await call('POST', '/api/v1/conversations/import', '{"format":');
    expect(notJson.status).toBe(400);
    const wrong = await call('POST', '/api/v1/conversations/import', { format: 'other', version: 1 });
    expect(wrong.status).toBe(400);
    const toolInSession = {
      format: 'parley.conversation',
      version: 1,
      conversation: { title: null, surface: 'chat-sessions', systemPrompt: null, createdAt: '2026-01-01T00:00:00.000Z' },
      messages: [{ role: 'tool', content: 'x', createdAt: '2026-01-01T00:00:00.000Z', toolCallId: 'c1' }],
    };
    const refused = await call('POST', '/api/v1/conversations/import', toolInSession);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('messages[0]');
  });
});
