import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, type RecordedRequest } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

interface Session {
  id: string;
  title: string;
  updated_at: string;
}

/** A title request is told to name the conversation; a turn's carries the session's system prompt. */
function isTitleRequest(request: RecordedRequest): boolean {
  return typeof request.body?.system === 'string' && request.body.system.startsWith('You name conversations');
}

function client(server: () => TestServer, token: () => string) {
  const call = async (method: string, path: string, body?: unknown, authorization = token()) =>
    fetch(`${server().url}/api/v1${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    call,
    async createSession(body: unknown = {}): Promise<Session> {
      const response = await call('POST', '/chat/sessions', body);
      expect(response.status).toBe(201);
      return (await response.json()) as Session;
    },
    async send(sessionId: string, content: string, stream = false): Promise<string> {
      const response = await call('POST', `/chat/messages${stream ? '?stream=true' : ''}`, { session_id: sessionId, content });
      expect(response.status).toBe(200);
      return response.text();
    },
    async title(sessionId: string): Promise<string> {
      const response = await call('GET', '/chat/sessions?limit=100');
      const { sessions } = (await response.json()) as { sessions: Session[] };
      return sessions.find((session) => session.id === sessionId)!.title;
    },
  };
}

describe('automatic titles and renaming of chat sessions', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let alice: string;
  let bob: string;
  const api = client(
    () => server,
    () => alice,
  );

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl },
    });
    alice = `Bearer ${await signToken('alice')}`;
    bob = `Bearer ${await signToken('bob')}`;
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('names a "New Chat" session with one short call to the turn\'s model after its first reply, after the stream\'s done, and bills it', async () => {
    fake.behaviour.reply = (body: any) =>
      typeof body.system === 'string' && body.system.startsWith('You name conversations')
        ? '"Planning a trip to Lisbon."\nignored second line'
        : 'Sure, let us plan it.';
    const session = await api.createSession();
    expect(session.title).toBe('New Chat');

    const stream = await api.send(session.id, 'Help me plan three days in Lisbon', true);
    // The stream is the reply's alone and ends with done.
    expect(stream).not.toContain('Lisbon.');
    expect(stream.trimEnd().split('\n\n').at(-1)).toContain('"type":"done"');

    await expect.poll(() => api.title(session.id)).toBe('Planning a trip to Lisbon');
    const titleRequests = fake.requests.filter(isTitleRequest);
    expect(titleRequests).toHaveLength(1);
    const titleBody = titleRequests[0]!.body;
    expect(titleBody.model).toBe('claude-3-5-sonnet-latest');
    expect(titleBody.max_tokens).toBeLessThanOrEqual(32);
    expect(titleBody.system).toMatch(/at most 60 characters/);
    expect(titleBody.messages[0].content).toContain('Help me plan three days in Lisbon');
    expect(titleBody.messages[0].content).toContain('Sure, let us plan it.');
    expect(fake.requests.filter((request) => !isTitleRequest(request))).toHaveLength(1);
    // The title's tokens are the user's, on top of the turn's (this is Alice's first turn).
    const { items } = await server.app.store.listMessages('alice', session.id, { page: 1, limit: 10 });
    const reply = items.find((message) => message.role === 'assistant')!;
    const turnTokens = reply.promptTokens! + reply.completionTokens!;
    const daily = (await (await api.call('GET', '/usage/daily?days=1')).json()) as { days: { tokens: number }[] };
    expect(daily.days[0]!.tokens).toBeGreaterThan(turnTokens);

    // Later replies leave the title alone and ask for none.
    await api.send(session.id, 'And a fourth day?');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests.filter(isTitleRequest)).toHaveLength(1);
    expect(await api.title(session.id)).toBe('Planning a trip to Lisbon');
  });

  it('caps a long title at 60 characters on one line', async () => {
    fake.behaviour.reply = (body: any) =>
      typeof body.system === 'string' && body.system.startsWith('You name conversations') ? `Title: ${'very '.repeat(30)}long` : 'ok';
    const session = await api.createSession();
    await api.send(session.id, 'Something long');
    await expect.poll(() => api.title(session.id)).not.toBe('New Chat');
    const title = await api.title(session.id);
    expect(title.length).toBe(60);
    expect(title).toMatch(/^very very .*…$/);
  });

  it('names no session the client titled, nor one renamed before its first reply', async () => {
    const titled = await api.createSession({ title: 'My own title' });
    await api.send(titled.id, 'Hello there');
    const renamed = await api.createSession();
    const patch = await api.call('PATCH', `/chat/sessions/${renamed.id}`, { title: 'Renamed first' });
    expect(patch.status).toBe(200);
    await api.send(renamed.id, 'Hello again');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.requests.filter(isTitleRequest)).toHaveLength(0);
    expect(await api.title(titled.id)).toBe('My own title');
    expect(await api.title(renamed.id)).toBe('Renamed first');
  });

  it('never overwrites a rename made while the title was being written', async () => {
    const session = await api.createSession();
    fake.behaviour.reply = (body: any) =>
      typeof body.system === 'string' && body.system.startsWith('You name conversations') ? 'Automatic title' : 'A reply';
    await api.send(session.id, 'Hello');
    // The title request is in flight: held by the fake before its headers.
    fake.behaviour.headersDelayMs = 300;
    const second = await api.createSession();
    const sending = api.send(second.id, 'Hello too');
    await expect.poll(() => fake.requests.filter(isTitleRequest).length).toBeGreaterThanOrEqual(1);
    await sending;
    await expect.poll(() => fake.requests.filter(isTitleRequest).length).toBe(2);
    const patch = await api.call('PATCH', `/chat/sessions/${second.id}`, { title: 'Mine' });
    expect(patch.status).toBe(200);
    await expect.poll(() => fake.openRequests).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await api.title(second.id)).toBe('Mine');
    expect(await api.title(session.id)).toBe('Automatic title');
  });

  it('keeps the turn whole when the title call fails', async () => {
    fake.behaviour.reply = () => 'Still answered';
    // The turn's request is under way (its first token held back) when the fault is queued: the title's request gets it.
    fake.behaviour.firstTokenDelayMs = 200;
    const session = await api.createSession();
    const sending = api.send(session.id, 'Hello');
    await expect.poll(() => fake.requests.length).toBeGreaterThanOrEqual(1);
    fake.failNext({ status: 400 });
    const reply = JSON.parse(await sending) as { content: string; status: string };
    expect(reply).toMatchObject({ content: 'Still answered', status: 'complete' });
    await expect.poll(() => fake.requests.filter(isTitleRequest).length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await api.title(session.id)).toBe('New Chat');
  });

  it('renames with PATCH: 200 with the session, its place in the list kept', async () => {
    const older = await api.createSession();
    const newer = await api.createSession();
    const response = await api.call('PATCH', `/chat/sessions/${older.id}`, { title: '  Budget review  ' });
    expect(response.status).toBe(200);
    const renamed = (await response.json()) as Session;
    expect(renamed).toMatchObject({ id: older.id, title: '  Budget review  ', updated_at: older.updated_at });
    const list = (await (await api.call('GET', '/chat/sessions?limit=100')).json()) as { sessions: Session[] };
    const ids = list.sessions.map((session) => session.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
  });

  it('documents PATCH and the summary field in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const patch = JSON.stringify(document.paths['/api/v1/chat/sessions/{session_id}']?.patch);
    expect(patch).toContain('"title"');
    expect(patch).toContain('"maxLength":200');
    expect(JSON.stringify(document.paths['/api/v1/chat/messages/{session_id}']?.get)).toContain('covers_through_message_id');
  });

  it("refuses a bad title with a 400 naming title, and another user's or an unknown session with a 404", async () => {
    const session = await api.createSession();
    for (const body of [{}, { title: '' }, { title: '   ' }, { title: 'x'.repeat(201) }, { title: 42 }]) {
      const response = await api.call('PATCH', `/chat/sessions/${session.id}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('title');
    }
    expect((await api.call('PATCH', `/chat/sessions/${session.id}`, { title: 'Bob was here' }, bob)).status).toBe(404);
    expect((await api.call('PATCH', '/chat/sessions/00000000-0000-4000-8000-000000000000', { title: 'Nobody' })).status).toBe(404);
    expect((await api.call('PATCH', '/chat/sessions/not-an-id', { title: 'Nobody' })).status).toBe(404);
    expect(await api.title(session.id)).toBe('New Chat');
  });
});

describe('automatic titles from the demo model and with AUTO_TITLES=false', () => {
  let demo: TestServer;
  let off: TestServer;
  let fake: FakeUpstream;
  let token: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    [demo, off] = await Promise.all([
      startTestServer({ env: { JWT_SECRET: testJwtSecret } }),
      startTestServer({
        env: {
          JWT_SECRET: testJwtSecret,
          ANTHROPIC_API_KEY: 'sk-ant-test',
          ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
          AUTO_TITLES: 'false',
        },
      }),
    ]);
    token = `Bearer ${await signToken('carol')}`;
  });
  afterAll(async () => {
    await Promise.all([demo?.close(), off?.close()]);
    await fake?.close();
  });

  it('the demo model titles a session with its first message, deterministically', async () => {
    const api = client(
      () => demo,
      () => token,
    );
    const first = await api.createSession();
    const second = await api.createSession();
    const message = '  What should I   cook tonight with leeks, potatoes and a little cream? Something warm please  ';
    await api.send(first.id, message);
    await api.send(second.id, message);
    const expected = 'What should I cook tonight with leeks, potatoes and a littl…';
    await expect.poll(() => api.title(first.id)).toBe(expected);
    await expect.poll(() => api.title(second.id)).toBe(expected);
  });

  it('AUTO_TITLES=false leaves "New Chat" and asks the model for nothing more', async () => {
    const api = client(
      () => off,
      () => token,
    );
    const session = await api.createSession();
    await api.send(session.id, 'Hello');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.requests).toHaveLength(1);
    expect(await api.title(session.id)).toBe('New Chat');
  });
});

describe('automatic titles at shutdown', () => {
  it('a title still being written is aborted by a graceful shutdown, which does not wait for it', async () => {
    const fake = await FakeUpstream.start();
    const server = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl },
    });
    try {
      const token = `Bearer ${await signToken('frank')}`;
      const api = client(
        () => server,
        () => token,
      );
      // The turn's reply is one word; the title's would stream for ten seconds.
      fake.behaviour.reply = (body: any) =>
        typeof body.system === 'string' && body.system.startsWith('You name conversations') ? 'word '.repeat(500) : 'ok';
      fake.behaviour.tokenDelayMs = 20;
      const session = await api.createSession();
      await api.send(session.id, 'Hello');
      await expect.poll(() => fake.requests.filter(isTitleRequest).length).toBe(1);
      const started = performance.now();
      await server.close();
      expect(performance.now() - started).toBeLessThan(3_000);
      await fake.waitForAborts(1);
      expect(fake.requests.find(isTitleRequest)?.aborted).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
