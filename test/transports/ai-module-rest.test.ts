import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, fakeEmbedding } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

/** The API's bodies are checked field by field in the tests, so they are read untyped. */
interface JsonResponse extends Response {
  json(): Promise<any>;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectIsoTimestamp(value: unknown): void {
  expect(typeof value).toBe('string');
  expect(new Date(value as string).toISOString()).toBe(value);
}

describe("seed 001's REST API under /api/v1/ai", () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, TURN_DETACH_SECONDS: '0' },
    });
    aliceToken = await signToken('alice');
    bobToken = await signToken('bob');
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  /** A JSON request as a browser client sends it; `body` strings are sent as they are. */
  function call(method: string, path: string, options: { token?: string | undefined; body?: unknown } = {}): Promise<JsonResponse> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    return fetch(`${server.url}/api/v1/ai${path}`, { method, headers, ...(body === undefined ? {} : { body }) }) as Promise<JsonResponse>;
  }

  async function chat(token: string, body: Record<string, unknown>): Promise<any> {
    const response = await call('POST', '/chat', { token, body });
    expect(response.status).toBe(200);
    return response.json();
  }

  async function expectError(response: Response, status: number, code: string, messagePattern?: RegExp): Promise<string> {
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    if (messagePattern !== undefined) expect(body.error.message).toMatch(messagePattern);
    return body.error.message;
  }

  describe('POST /chat', () => {
    it('answers the documented request with every documented field, creating a conversation with the env defaults', async () => {
      const response = await call('POST', '/chat', { token: aliceToken, body: { message: 'Explain NestJS to me' } });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(['content', 'conversationId', 'createdAt', 'messageId', 'model', 'tokens']);
      expect(body.conversationId).toMatch(uuid);
      expect(body.messageId).toMatch(uuid);
      expect(body.content).toBe('You said: Explain NestJS to me');
      expect(body.model).toBe('gpt-4');
      // The fake counts 4 prompt words and 6 reply tokens: tokens is the reply's prompt plus completion.
      expect(body.tokens).toBe(10);
      expectIsoTimestamp(body.createdAt);
      const upstream = fake.requests.at(-1)!.body;
      expect(upstream).toMatchObject({ model: 'gpt-4', max_tokens: 4096, temperature: 0.7 });
      expect(upstream.messages).toEqual([{ role: 'user', content: 'Explain NestJS to me' }]);
    });

    it('continues the conversation named by conversationId, sending the first exchange upstream with the client’s settings', async () => {
      const first = await chat(aliceToken, { message: 'What is NestJS?' });
      const second = await chat(aliceToken, {
        message: 'And Fastify?',
        conversationId: first.conversationId,
        model: 'gpt-4o',
        maxTokens: 100,
        temperature: 0.2,
      });
      expect(second.conversationId).toBe(first.conversationId);
      expect(second.messageId).not.toBe(first.messageId);
      expect(second.model).toBe('gpt-4o');
      const upstream = fake.requests.at(-1)!.body;
      expect(upstream).toMatchObject({ model: 'gpt-4o', max_tokens: 100, temperature: 0.2 });
      expect(upstream.messages).toEqual([
        { role: 'user', content: 'What is NestJS?' },
        { role: 'assistant', content: 'You said: What is NestJS?' },
        { role: 'user', content: 'And Fastify?' },
      ]);
    });

    it('runs the Axios example literally: response.data.content is the reply, with or without an existing conversation', async () => {
      const accessToken = aliceToken;
      const existingConversationId = (await chat(aliceToken, { message: 'Hello' })).conversationId;
      for (const conversationId of [existingConversationId, undefined]) {
        // axios.post(url, data, { headers }) sends the data as JSON with this content type.
        const response: JsonResponse = await fetch(`${server.url}/api/v1/ai/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', Authorization: `Bearer ${accessToken}` },
          body: JSON.stringify({ message: 'Explain NestJS', conversationId }),
        });
        const data = await response.json();
        expect(response.status).toBe(200);
        expect(data.content).toBe('You said: Explain NestJS');
        if (conversationId === undefined) expect(data.conversationId).not.toBe(existingConversationId);
        else expect(data.conversationId).toBe(existingConversationId);
      }
    });

    it('treats a null conversationId, as a UI state often holds, as "create a new conversation"', async () => {
      const body = await chat(aliceToken, { message: 'Fresh start', conversationId: null });
      expect(body.conversationId).toMatch(uuid);
      const read = await (await call('GET', `/conversations/${body.conversationId}`, { token: aliceToken })).json();
      expect(read.messages).toHaveLength(2);
    });

    it("answers a provider's refusal with its status and the shared error shape", async () => {
      fake.failNext({ status: 401 });
      await expectError(
        await call('POST', '/chat', { token: aliceToken, body: { message: 'Hi' } }),
        502,
        'provider_auth_failed',
        /OPENAI_API_KEY/,
      );
    });

    it('cancels the upstream request when the client goes away and stores the partial reply', async () => {
      fake.behaviour.reply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
      fake.behaviour.tokenDelayMs = 10;
      const controller = new AbortController();
      const response = fetch(`${server.url}/api/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${aliceToken}` },
        body: JSON.stringify({ message: 'Tell me a long story' }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await expect.poll(() => fake.openRequests).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await response;
      await fake.waitForAborts(1, 2000);
      const list = await (await call('GET', '/conversations?limit=1', { token: aliceToken })).json();
      const read = async () => (await (await call('GET', `/conversations/${list.data[0].id}`, { token: aliceToken })).json()).messages;
      await expect.poll(async () => (await read()).length).toBe(2);
      const [question, partial] = await read();
      expect(question.content).toBe('Tell me a long story');
      expect(partial.role).toBe('ASSISTANT');
      expect(partial.content).toMatch(/^word0 word1/);
      expect(partial.content.length).toBeLessThan(fake.behaviour.reply.length as number);
    });
  });

  describe('POST /embeddings', () => {
    it('answers the documented request with the embedding, the default model and its tokens', async () => {
      const response = await call('POST', '/embeddings', { token: aliceToken, body: { text: 'Text to generate embeddings for' } });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(['embedding', 'model', 'tokens']);
      expect(body.embedding).toEqual(fakeEmbedding('Text to generate embeddings for'));
      expect(body.embedding.every((value: unknown) => typeof value === 'number' && !Number.isInteger(value))).toBe(true);
      expect(body.model).toBe('text-embedding-3-small');
      expect(body.tokens).toBe(5);
      expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'text-embedding-3-small', input: ['Text to generate embeddings for'] });
    });

    it('uses the model the client names', async () => {
      const response = await call('POST', '/embeddings', { token: aliceToken, body: { text: 'hi', model: 'text-embedding-3-large' } });
      expect((await response.json()).model).toBe('text-embedding-3-large');
      expect(fake.requests.at(-1)!.body.model).toBe('text-embedding-3-large');
    });

    it('refuses a text over MAX_MESSAGE_CHARS with 413 naming the field, before the provider is asked', async () => {
      const before = fake.requests.length;
      const response = await call('POST', '/embeddings', { token: aliceToken, body: { text: 'x'.repeat(32_001) } });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { message: 'The text is 32001 characters; the limit is 32000' } });
      expect(fake.requests.length).toBe(before);
    });
  });

  describe('conversations', () => {
    it('creates a conversation with the documented fields and 201, with or without a title', async () => {
      const response = await call('POST', '/conversations', { token: aliceToken, body: { title: 'My AI Chat' } });
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(['createdAt', 'id', 'messageCount', 'title', 'updatedAt', 'userId']);
      expect(body).toMatchObject({ title: 'My AI Chat', userId: 'alice', messageCount: 0 });
      expect(body.id).toMatch(uuid);
      expectIsoTimestamp(body.createdAt);
      expectIsoTimestamp(body.updatedAt);

      const untitled = await call('POST', '/conversations', { token: aliceToken });
      expect(untitled.status).toBe(201);
      expect((await untitled.json()).title).toBeNull();
      const empty = await call('POST', '/conversations', { token: aliceToken, body: {} });
      expect((await empty.json()).title).toBeNull();
    });

    it('lists conversations a page at a time, most recently updated first, with the documented meta', async () => {
      const token = await signToken('carol');
      const ids: string[] = [];
      for (const title of ['one', 'two', 'three']) {
        ids.push((await (await call('POST', '/conversations', { token, body: { title } })).json()).id);
      }
      const first = await (await call('GET', '/conversations?page=1&limit=2', { token })).json();
      expect(Object.keys(first).sort()).toEqual(['data', 'meta']);
      expect(first.meta).toEqual({ total: 3, page: 1, limit: 2, totalPages: 2 });
      expect(first.data.map((conversation: { id: string }) => conversation.id)).toEqual([ids[2], ids[1]]);
      expect(first.data[0]).toMatchObject({ title: 'three', userId: 'carol', messageCount: 0 });
      const second = await (await call('GET', '/conversations?page=2&limit=2', { token })).json();
      expect(second.meta).toEqual({ total: 3, page: 2, limit: 2, totalPages: 2 });
      expect(second.data.map((conversation: { id: string }) => conversation.id)).toEqual([ids[0]]);
      const defaults = await (await call('GET', '/conversations', { token })).json();
      expect(defaults.meta).toEqual({ total: 3, page: 1, limit: 20, totalPages: 1 });
    });

    it('refuses a limit above 100, a limit or page below 1, and non-numbers with 400 naming the parameter', async () => {
      for (const query of ['limit=101', 'limit=0', 'page=0', 'page=abc']) {
        const parameter = query.split('=')[0];
        await expectError(
          await call('GET', `/conversations?${query}`, { token: aliceToken }),
          400,
          'invalid_request',
          new RegExp(`querystring\\.${parameter}`),
        );
      }
      expect((await call('GET', '/conversations?limit=100', { token: aliceToken })).status).toBe(200);
    });

    it('lists, reads and deletes a conversation that POST /chat created', async () => {
      const token = await signToken('erin');
      const first = await chat(token, { message: 'What is NestJS? '.repeat(6).trim() });
      const second = await chat(token, { message: 'Thanks', conversationId: first.conversationId });

      const list = await (await call('GET', '/conversations', { token })).json();
      expect(list.meta.total).toBe(1);
      expect(list.data[0]).toMatchObject({ id: first.conversationId, userId: 'erin', messageCount: 4 });
      // Titled after its first message, cut to 60 characters.
      expect(list.data[0].title).toMatch(/^What is NestJS\? What is NestJS\?/);
      expect(list.data[0].title.length).toBeLessThanOrEqual(60);

      const response = await call('GET', `/conversations/${first.conversationId}`, { token });
      expect(response.status).toBe(200);
      const read = await response.json();
      expect(Object.keys(read).sort()).toEqual(['createdAt', 'id', 'messages', 'title', 'updatedAt', 'userId']);
      expect(read).toMatchObject({ id: first.conversationId, userId: 'erin', title: list.data[0].title });
      expect(read.messages.map((message: { role: string }) => message.role)).toEqual(['USER', 'ASSISTANT', 'USER', 'ASSISTANT']);
      const [question, answer, thanks, reply] = read.messages;
      expect(Object.keys(question).sort()).toEqual(['content', 'createdAt', 'id', 'model', 'role', 'status', 'tokens']);
      expect(read.messages.map((message: { status: string }) => message.status)).toEqual(['complete', 'complete', 'complete', 'complete']);
      expect(question).toMatchObject({ tokens: null, model: null });
      expect(thanks).toMatchObject({ content: 'Thanks', tokens: null, model: null });
      expect(answer).toMatchObject({ id: first.messageId, content: first.content, tokens: first.tokens, model: 'gpt-4' });
      expect(reply).toMatchObject({ id: second.messageId, content: 'You said: Thanks', tokens: second.tokens, model: 'gpt-4' });
      for (const message of read.messages) expectIsoTimestamp(message.createdAt);
      expect(read.updatedAt >= read.createdAt).toBe(true);

      const deleted = await call('DELETE', `/conversations/${first.conversationId}`, { token });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      await expectError(await call('GET', `/conversations/${first.conversationId}`, { token }), 404, 'not_found');
      await expectError(await call('DELETE', `/conversations/${first.conversationId}`, { token }), 404, 'not_found');
      expect((await (await call('GET', '/conversations', { token })).json()).meta.total).toBe(0);
      await expectError(
        await call('POST', '/chat', { token, body: { message: 'Hi', conversationId: first.conversationId } }),
        404,
        'not_found',
      );
    });
  });

  describe('GET /usage', () => {
    it("answers the caller's totals with the documented fields, starting from zero", async () => {
      const token = await signToken('dave');
      const before = await (await call('GET', '/usage', { token })).json();
      expect(before).toEqual({ totalTokens: 0, conversationsCount: 0, messagesCount: 0, lastUsed: null });

      const first = await chat(token, { message: 'One two three' });
      const second = await chat(token, { message: 'Four five', conversationId: first.conversationId });
      await chat(await signToken('someone-else'), { message: 'Not dave' });
      const after = await (await call('GET', '/usage', { token })).json();
      expect(Object.keys(after).sort()).toEqual(['conversationsCount', 'lastUsed', 'messagesCount', 'totalTokens']);
      expect(after).toMatchObject({ totalTokens: first.tokens + second.tokens, conversationsCount: 1, messagesCount: 4 });
      expectIsoTimestamp(after.lastUsed);
    });
  });

  describe('authentication and isolation', () => {
    const endpoints: [string, string, unknown?][] = [
      ['POST', '/chat', { message: 'Hi' }],
      ['POST', '/embeddings', { text: 'Hi' }],
      ['POST', '/conversations', { title: 'x' }],
      ['GET', '/conversations'],
      ['GET', '/conversations/00000000-0000-7000-8000-000000000000'],
      ['DELETE', '/conversations/00000000-0000-7000-8000-000000000000'],
      ['GET', '/usage'],
      ['POST', '/jobs/completions', { message: 'Hi' }],
      ['POST', '/jobs/embeddings', { text: 'Hi' }],
      ['GET', '/jobs'],
      ['GET', '/jobs/00000000-0000-4000-8000-000000000000'],
    ];

    it('answers 401 on every endpoint without a token, before looking at the body', async () => {
      for (const [method, path, body] of endpoints) {
        await expectError(await call(method, path, { body }), 401, 'unauthorized', /Bearer/);
        if (method === 'POST') await expectError(await call(method, path, { body: '{"not json' }), 401, 'unauthorized');
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 401 for an invalid or expired token, never acting as a guest', async () => {
      const expired = await signToken('alice', { expiresIn: -10 });
      const forged = await signToken('alice', { secret: 'another-secret-that-is-at-least-32-characters' });
      await expectError(await call('GET', '/usage', { token: expired }), 401, 'unauthorized', /expired/);
      await expectError(await call('POST', '/chat', { token: forged, body: { message: 'Hi' } }), 401, 'unauthorized', /invalid/);
      expect(fake.requests).toHaveLength(0);
    });

    it("answers 404 with none of the owner's data when another user names a conversation, and leaves it intact", async () => {
      const alice = await chat(aliceToken, { message: 'My secret plan' });
      const id = alice.conversationId;
      for (const [method, path, body] of [
        ['GET', `/conversations/${id}`, undefined],
        ['DELETE', `/conversations/${id}`, undefined],
        ['POST', '/chat', { message: 'Let me in', conversationId: id }],
        ['POST', '/jobs/completions', { message: 'Let me in', conversationId: id }],
      ] as const) {
        const response = await call(method, path, { token: bobToken, body });
        const text = await response.text();
        expect(response.status).toBe(404);
        expect(JSON.parse(text)).toEqual({ error: { code: 'not_found', message: 'Conversation not found' } });
        expect(text).not.toContain('secret');
      }
      const bobList = await (await call('GET', '/conversations', { token: bobToken })).json();
      expect(bobList.data.map((conversation: { id: string }) => conversation.id)).not.toContain(id);
      const read = await (await call('GET', `/conversations/${id}`, { token: aliceToken })).json();
      expect(read.messages.map((message: { content: string }) => message.content)).toEqual(['My secret plan', 'You said: My secret plan']);
    });

    it('answers 404 for a malformed or unknown id, never 500', async () => {
      for (const id of ['not-a-uuid', '123', '00000000-0000-7000-8000-000000000000', "1' OR '1'='1"]) {
        const path = `/conversations/${encodeURIComponent(id)}`;
        await expectError(await call('GET', path, { token: aliceToken }), 404, 'not_found');
        await expectError(await call('DELETE', path, { token: aliceToken }), 404, 'not_found');
        await expectError(
          await call('POST', '/chat', { token: aliceToken, body: { message: 'Hi', conversationId: id } }),
          404,
          'not_found',
        );
      }
    });
  });

  describe('bad input', () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/chat', {}, 'body.message'],
      ['POST', '/chat', { message: 42 }, 'body.message'],
      ['POST', '/chat', { message: '   ' }, 'body.message'],
      ['POST', '/chat', { message: 'Hi', maxTokens: 0 }, 'body.maxTokens'],
      ['POST', '/chat', { message: 'Hi', maxTokens: -5 }, 'body.maxTokens'],
      ['POST', '/chat', { message: 'Hi', maxTokens: 1.5 }, 'body.maxTokens'],
      ['POST', '/chat', { message: 'Hi', maxTokens: '100' }, 'body.maxTokens'],
      ['POST', '/chat', { message: 'Hi', temperature: 2.5 }, 'body.temperature'],
      ['POST', '/chat', { message: 'Hi', temperature: -0.1 }, 'body.temperature'],
      ['POST', '/chat', { message: 'Hi', temperature: 'hot' }, 'body.temperature'],
      ['POST', '/chat', { message: 'Hi', model: 7 }, 'body.model'],
      ['POST', '/chat', { message: 'Hi', conversationId: 7 }, 'body.conversationId'],
      ['POST', '/chat', ['Hi'], 'body'],
      ['POST', '/embeddings', {}, 'body.text'],
      ['POST', '/embeddings', { text: ['a', 'b'] }, 'body.text'],
      ['POST', '/conversations', { title: 5 }, 'body.title'],
      ['POST', '/jobs/completions', { message: 'Hi', temperature: 3 }, 'body.temperature'],
      ['POST', '/jobs/embeddings', { text: '' }, 'body.text'],
    ];

    it('answers 400 naming the bad field, and sends nothing upstream', async () => {
      for (const [method, path, body, field] of cases) {
        const message = await expectError(await call(method, path, { token: aliceToken, body }), 400, 'invalid_request');
        expect(message.startsWith(`${field}:`), `${path} ${JSON.stringify(body)}: ${message}`).toBe(true);
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 400 for a body that is not JSON', async () => {
      for (const path of ['/chat', '/embeddings', '/conversations', '/jobs/completions']) {
        await expectError(await call('POST', path, { token: aliceToken, body: '{"message": "Hi"' }), 400, 'invalid_request');
      }
    });
  });

  it('describes every endpoint in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    for (const route of [
      'post /api/v1/ai/chat',
      'post /api/v1/ai/embeddings',
      'post /api/v1/ai/conversations',
      'get /api/v1/ai/conversations',
      'get /api/v1/ai/conversations/{id}',
      'delete /api/v1/ai/conversations/{id}',
      'get /api/v1/ai/usage',
      'post /api/v1/ai/jobs/completions',
      'post /api/v1/ai/jobs/embeddings',
      'get /api/v1/ai/jobs',
      'get /api/v1/ai/jobs/{id}',
    ]) {
      expect(paths).toContain(route);
    }
    expect(JSON.stringify(document.paths['/api/v1/ai/chat'])).toContain('conversationId');
  });
});
