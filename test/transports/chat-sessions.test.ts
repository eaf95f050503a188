import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import type { StoreDatabase } from '../../src/store/store-database.js';
import { messageRowCounter } from '../store/message-row-counter.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { temporarySqliteFile, type TemporarySqliteFile } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const repruvPrompt = /^You are Repruv AI, a helpful assistant for content creators and influencers/;

interface Session {
  id: string;
  user_id: string;
  title: string;
  mode: string;
  context_tags: string[];
  system_prompt: string | null;
  status: string;
  message_count: number;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

interface Message {
  id: string;
  session_id: string;
  user_id: string;
  role: 'user' | 'assistant';
  content: string;
  tokens: number;
  latency_ms: number | null;
  created_at: string;
  status: string;
  model: string | null;
  parent_id?: string | null;
  sibling_ids?: string[];
}

describe('seed 002 chat sessions under /api/v1/chat', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let databaseFile: TemporarySqliteFile;
  let inspection: StoreDatabase;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    databaseFile = await temporarySqliteFile();
    server = await startTestServer({
      env: {
        JWT_SECRET: testJwtSecret,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        DATABASE_URL: `file:${databaseFile.path}`,
        TURN_DETACH_SECONDS: '0',
        // Upstream requests here are the turns' alone; automatic titles have conversation-titles.test.ts.
        AUTO_TITLES: 'false',
      },
    });
    inspection = await openSqliteDatabase(databaseFile.path);
    alice = `Bearer ${await signToken('alice')}`;
    bob = `Bearer ${await signToken('bob')}`;
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await inspection.close();
    await server.close();
    await fake.close();
    await databaseFile.remove();
  });

  /** A request as the seed's frontend sends it, relative to NEXT_PUBLIC_API_URL (…/api/v1). */
  /** Sends Alice's token unless `authorization` is given, even as undefined (no header). */
  function call(method: string, path: string, options: { body?: unknown; authorization?: string | undefined } = {}): Promise<Response> {
    const { body } = options;
    const authorization = 'authorization' in options ? options.authorization : alice;
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${server.url}/api/v1${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  async function createSession(body: unknown = { title: 'New Chat', mode: 'general' }, authorization = alice): Promise<Session> {
    const response = await call('POST', '/chat/sessions', { body, authorization });
    expect(response.status).toBe(201);
    return (await response.json()) as Session;
  }

  async function sendMessage(sessionId: string, content: string): Promise<Message & { user_message_id: string }> {
    const response = await call('POST', '/chat/messages', { body: { session_id: sessionId, content } });
    expect(response.status).toBe(200);
    return (await response.json()) as Message & { user_message_id: string };
  }

  function lastUpstreamBody(): {
    model: string;
    max_tokens: number;
    temperature: number;
    system: string;
    messages: { role: string; content: string }[];
  } {
    return fake.requests.at(-1)!.body;
  }

  it('creates a session with the seed request and answers 201 with every field of ai_chat_sessions', async () => {
    const session = await createSession({ title: 'New Chat', mode: 'general' });
    expect(session).toEqual({
      id: expect.stringMatching(uuid),
      user_id: 'alice',
      title: 'New Chat',
      mode: 'general',
      context_tags: [],
      system_prompt: null,
      status: 'active',
      message_count: 0,
      created_at: expect.stringMatching(isoTimestamp),
      updated_at: expect.stringMatching(isoTimestamp),
      last_message_at: null,
    });
  });

  it('fills in title "New Chat", mode "general" and status "active" when the body leaves them out, and keeps tags and a system prompt', async () => {
    const bare = await (await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST', headers: { authorization: alice } })).json();
    expect(bare).toMatchObject({ title: 'New Chat', mode: 'general', status: 'active', context_tags: [] });
    const detailed = await createSession({
      title: 'Ideas',
      mode: 'creative',
      context_tags: ['youtube', 'growth'],
      system_prompt: 'Answer in haiku.',
    });
    expect(detailed).toMatchObject({
      title: 'Ideas',
      mode: 'creative',
      context_tags: ['youtube', 'growth'],
      system_prompt: 'Answer in haiku.',
    });
  });

  it('runs the seed flow: send a message, list sessions with counts, read the history, delete the session with its messages', async () => {
    const session = await createSession();
    const content = 'Why has my subscriber count gone down?';

    const reply = await sendMessage(session.id, content);
    expect(reply).toEqual({
      id: expect.stringMatching(uuid),
      session_id: session.id,
      user_id: 'alice',
      role: 'assistant',
      content: `You said: ${content}`,
      tokens: 9,
      latency_ms: expect.any(Number),
      created_at: expect.stringMatching(isoTimestamp),
      status: 'complete',
      model: 'claude-3-5-sonnet-latest',
      user_message_id: expect.stringMatching(uuid),
      parent_id: expect.stringMatching(uuid),
      version: 1,
      versions: 1,
      sibling_ids: [expect.stringMatching(uuid)],
      prompt_tokens: expect.any(Number),
      time_to_first_token_ms: expect.any(Number),
    });
    expect(reply.parent_id).toBe(reply.user_message_id);
    expect(reply.sibling_ids).toEqual([reply.id]);

    // Claude got the seed's settings: model, max tokens, temperature and the Repruv system prompt.
    const upstream = fake.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.headers.authorization).toBe('Bearer sk-ant-test');
    expect(lastUpstreamBody()).toMatchObject({ model: 'claude-3-5-sonnet-latest', max_tokens: 1024, temperature: 0.7, stream: true });
    expect(lastUpstreamBody().system).toMatch(repruvPrompt);
    expect(lastUpstreamBody().messages).toEqual([{ role: 'user', content }]);

    const list = await call('GET', '/chat/sessions?page=1&limit=10');
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { sessions: Session[]; total: number; page: number; limit: number; total_pages: number };
    expect(listed).toMatchObject({ page: 1, limit: 10, total: listed.sessions.length, total_pages: 1 });
    const entry = listed.sessions.find((candidate) => candidate.id === session.id)!;
    expect(entry).toMatchObject({
      message_count: 2,
      title: 'New Chat',
      mode: 'general',
      last_message_at: expect.stringMatching(isoTimestamp),
    });
    // The session that was just talked in comes first.
    expect(listed.sessions[0]!.id).toBe(session.id);

    const history = await call('GET', `/chat/messages/${session.id}`);
    expect(history.status).toBe(200);
    const { messages, ...meta } = (await history.json()) as { messages: Message[]; total: number };
    expect(meta).toEqual({ summary: null, total: 2, page: 1, limit: 20, total_pages: 1 });
    const { user_message_id: userMessageId, ...storedReply } = reply;
    expect(messages).toEqual([
      {
        id: userMessageId,
        session_id: session.id,
        user_id: 'alice',
        role: 'user',
        content,
        tokens: expect.any(Number),
        latency_ms: null,
        created_at: expect.stringMatching(isoTimestamp),
        status: 'complete',
        model: null,
        parent_id: null,
        version: 1,
        versions: 1,
        sibling_ids: [userMessageId],
        prompt_tokens: null,
        time_to_first_token_ms: null,
      },
      storedReply,
    ]);
    expect(messages[0]!.tokens).toBeGreaterThan(0);

    const countRows = messageRowCounter(inspection);
    expect(await countRows(session.id)).toBe(2);
    const deleted = await call('DELETE', `/chat/sessions/${session.id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(await countRows(session.id)).toBe(0);
    expect((await call('GET', `/chat/messages/${session.id}`)).status).toBe(404);
    expect((await call('DELETE', `/chat/sessions/${session.id}`)).status).toBe(404);
    const after = (await (await call('GET', '/chat/sessions?limit=100')).json()) as { sessions: Session[] };
    expect(after.sessions.map((candidate) => candidate.id)).not.toContain(session.id);
  });

  it("sends the session's own system prompt instead of the Repruv prompt when it has one", async () => {
    const session = await createSession({ title: 'Haiku', system_prompt: 'Answer in haiku.' });
    await sendMessage(session.id, 'Best time to post?');
    expect(lastUpstreamBody().system).toBe('Answer in haiku.');
  });

  it('sends the last 20 messages as context, with the new one after them', async () => {
    const session = await createSession();
    for (let turn = 1; turn <= 12; turn++) await sendMessage(session.id, `question ${turn}`);
    await sendMessage(session.id, 'question 13');
    const sent = lastUpstreamBody().messages;
    expect(sent).toHaveLength(21);
    // 12 turns stored 24 messages; the 20 most recent start at turn 3's question.
    expect(sent[0]).toEqual({ role: 'user', content: 'question 3' });
    expect(sent.at(-2)).toEqual({ role: 'assistant', content: 'You said: question 12' });
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'question 13' });
  });

  it('pages through history oldest first', async () => {
    const session = await createSession();
    for (let turn = 1; turn <= 3; turn++) await sendMessage(session.id, `question ${turn}`);
    const second = (await (await call('GET', `/chat/messages/${session.id}?page=2&limit=2`)).json()) as {
      messages: Message[];
      total_pages: number;
      total: number;
    };
    expect(second.messages.map((message) => message.content)).toEqual(['question 2', 'You said: question 2']);
    expect(second).toMatchObject({ total: 6, total_pages: 3 });
  });

  it("answers 404 to another user on every endpoint that takes a session id, and never shows them the owner's data", async () => {
    const session = await createSession();
    await sendMessage(session.id, 'private thoughts');
    const requestCount = fake.requests.length;

    const read = await call('GET', `/chat/messages/${session.id}`, { authorization: bob });
    const send = await call('POST', '/chat/messages', { body: { session_id: session.id, content: 'let me in' }, authorization: bob });
    const streamed = await call('POST', '/chat/messages?stream=true', {
      body: { session_id: session.id, content: 'let me in' },
      authorization: bob,
    });
    const remove = await call('DELETE', `/chat/sessions/${session.id}`, { authorization: bob });
    for (const response of [read, send, streamed, remove]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'not_found', message: 'Chat session not found' } });
      expect(text).not.toContain('private thoughts');
    }
    const bobsList = (await (await call('GET', '/chat/sessions', { authorization: bob })).json()) as { sessions: Session[]; total: number };
    expect(bobsList).toMatchObject({ sessions: [], total: 0 });

    // Nothing reached Claude and the owner's session is intact.
    expect(fake.requests).toHaveLength(requestCount);
    const history = (await (await call('GET', `/chat/messages/${session.id}`)).json()) as { messages: Message[] };
    expect(history.messages.map((message) => message.content)).toEqual(['private thoughts', 'You said: private thoughts']);
  });

  it('answers 404 to a malformed or unknown session id on every endpoint', async () => {
    for (const id of ['not-a-uuid', '123', '00000000-0000-4000-8000-000000000000']) {
      expect((await call('GET', `/chat/messages/${id}`)).status, id).toBe(404);
      expect((await call('DELETE', `/chat/sessions/${id}`)).status, id).toBe(404);
      expect((await call('POST', '/chat/messages', { body: { session_id: id, content: 'hi' } })).status, id).toBe(404);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("reads and continues the user's conversation that another surface created, in this surface's shape", async () => {
    const other = await server.app.store.createConversation('alice', { surface: 'ai-module', title: 'From seed 001' });
    expect((await call('POST', '/chat/messages', { body: { session_id: other.id, content: 'hi' } })).status).toBe(200);
    const history = await call('GET', `/chat/messages/${other.id}`);
    expect(history.status).toBe(200);
    expect(((await history.json()) as { messages: { role: string }[] }).messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
    ]);
    // Listings stay per surface: the seed-001 conversation is not listed as a session.
    const sessions = (await (await call('GET', '/chat/sessions')).json()) as { sessions: { id: string }[] };
    expect(sessions.sessions.map((session) => session.id)).not.toContain(other.id);
    expect((await call('DELETE', `/chat/sessions/${other.id}`)).status).toBe(204);
  });

  it('answers 401 on every endpoint without a token', async () => {
    const session = await createSession();
    const requests: [string, string, unknown][] = [
      ['POST', '/chat/sessions', { title: 'New Chat', mode: 'general' }],
      ['GET', '/chat/sessions', undefined],
      ['DELETE', `/chat/sessions/${session.id}`, undefined],
      ['POST', '/chat/messages', { session_id: session.id, content: 'hi' }],
      ['POST', '/chat/messages?stream=true', { session_id: session.id, content: 'hi' }],
      ['GET', `/chat/messages/${session.id}`, undefined],
    ];
    for (const [method, path, body] of requests) {
      const response = await call(method, path, { body, authorization: undefined });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('answers bad input with a 400 naming the field, never a 5xx', async () => {
    const session = await createSession();
    const cases: [method: string, path: string, body: unknown, mention: string][] = [
      ['POST', '/chat/messages', { content: 'hi' }, 'session_id'],
      ['POST', '/chat/messages', { session_id: session.id }, 'content'],
      ['POST', '/chat/messages', { session_id: session.id, content: '' }, 'content'],
      ['POST', '/chat/messages', { session_id: session.id, content: '   \n' }, 'content must not be blank'],
      ['POST', '/chat/messages', { session_id: session.id, content: 'x'.repeat(32_001) }, 'content must be at most 32000 characters'],
      ['POST', '/chat/messages', { session_id: session.id, content: 42 }, 'content'],
      ['POST', '/chat/messages', '{"session_id": "', 'JSON'],
      ['POST', '/chat/messages?stream=maybe', { session_id: session.id, content: 'hi' }, 'stream'],
      ['POST', '/chat/sessions', { title: '' }, 'title'],
      ['POST', '/chat/sessions', { context_tags: 'youtube' }, 'context_tags'],
      ['POST', '/chat/sessions', '{"title": ', 'JSON'],
      ['GET', '/chat/sessions?limit=101', undefined, 'limit'],
      ['GET', '/chat/sessions?page=0', undefined, 'page'],
      ['GET', `/chat/messages/${session.id}?limit=101`, undefined, 'limit'],
      ['GET', `/chat/messages/${session.id}?limit=ten`, undefined, 'limit'],
    ];
    for (const [method, path, body, mention] of cases) {
      const response = await call(method, path, { body });
      const label = `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}`;
      expect(response.status, label).toBe(400);
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      expect(error.code, label).toBe('invalid_request');
      expect(error.message, label).toContain(mention);
    }
    expect(fake.requests).toHaveLength(0);
    const history = (await (await call('GET', `/chat/messages/${session.id}`)).json()) as { total: number };
    expect(history.total).toBe(0);
  });

  it('accepts a message of exactly 32000 characters', async () => {
    const session = await createSession();
    fake.behaviour.reply = 'Noted.';
    const reply = await sendMessage(session.id, 'word '.repeat(6_400));
    expect(reply.status).toBe('complete');
  });

  it('answers an upstream failure before any reply with its status and the error shape, keeping the user message', async () => {
    const session = await createSession();
    // A rejected key is not retried, so the status reaches the client at once.
    fake.failNext({ status: 401 });
    const response = await call('POST', '/chat/messages', { body: { session_id: session.id, content: 'hi' } });
    expect(response.status).toBe(502);
    const error = ((await response.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('provider_auth_failed');
    expect(error.message).not.toContain('sk-ant-test');
    const history = (await (await call('GET', `/chat/messages/${session.id}`)).json()) as { messages: Message[] };
    // The reply stored from the turn's start ends failed, with nothing in it.
    expect(history.messages.map(({ role, status, content }) => ({ role, status, content }))).toEqual([
      { role: 'user', status: 'complete', content: 'hi' },
      { role: 'assistant', status: 'failed', content: '' },
    ]);
  });

  it('aborts the Claude request and stores the partial reply as interrupted when a JSON client goes away', async () => {
    const session = await createSession();
    fake.behaviour.reply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
    fake.behaviour.tokenDelayMs = 10;
    const controller = new AbortController();
    const request = fetch(`${server.url}/api/v1/chat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: alice },
      body: JSON.stringify({ session_id: session.id, content: 'Tell me a long story' }),
      signal: controller.signal,
    });
    await expect.poll(() => fake.requests.length).toBe(1);
    setTimeout(() => controller.abort(), 100);
    await expect(request).rejects.toThrow();
    await fake.waitForAborts(1, 1000);
    await expect
      .poll(async () => (await server.app.store.listMessages('alice', session.id, { page: 1, limit: 2 })).items[1]?.status)
      .toBe('interrupted');
  });

  it('lists the endpoints in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/api/v1/chat/sessions'] ?? {})).toEqual(expect.arrayContaining(['post', 'get']));
    expect(document.paths['/api/v1/chat/sessions/{session_id}']?.delete).toBeDefined();
    expect(JSON.stringify(document.paths['/api/v1/chat/messages']?.post)).toContain('session_id');
    expect(document.paths['/api/v1/chat/messages/{session_id}']?.get).toBeDefined();
  });
});

describe('seed 002 chat sessions in single-user local mode', () => {
  it('acts as the local user without a token', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/api/v1/chat/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'New Chat', mode: 'general' }),
      });
      expect(response.status).toBe(201);
      expect(((await response.json()) as Session).user_id).toBe('local');
      const list = (await (await fetch(`${server.url}/api/v1/chat/sessions`)).json()) as { total: number };
      expect(list.total).toBe(1);
    } finally {
      await server.close();
    }
  });
});
