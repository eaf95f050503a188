import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { temporarySqliteFile, type TemporarySqliteFile } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

interface Message {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  model: string | null;
  parent_id: string | null;
  version: number;
  versions: number;
  sibling_ids: string[];
  prompt_tokens: number | null;
  time_to_first_token_ms: number | null;
}

type SentMessage = Message & { user_message_id: string };

interface History {
  messages: Message[];
  total: number;
}

type StreamEvent =
  | { type: 'message_start'; session_id: string; user_message_id: string; message_id: string; model: string }
  | { type: 'delta'; content: string }
  | { type: 'done'; message: SentMessage }
  | { type: 'error'; code: string; message: string };

/** The `data:` JSON of each Server-Sent Event (each event may carry an `id:` line too). */
function parseEvents(text: string): StreamEvent[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice('data: '.length)) as StreamEvent);
}

describe('message tree of the chat-sessions API: edit, regenerate, switch branch, choose the model', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let databaseFile: TemporarySqliteFile;
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
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        DATABASE_URL: `file:${databaseFile.path}`,
        TURN_DETACH_SECONDS: '0',
      },
    });
    alice = `Bearer ${await signToken('alice')}`;
    bob = `Bearer ${await signToken('bob')}`;
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
    await databaseFile.remove();
  });

  function call(method: string, path: string, body?: unknown, authorization = alice): Promise<Response> {
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${server.url}/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  async function createSession(authorization = alice): Promise<string> {
    const response = await call('POST', '/chat/sessions', { title: 'Tree' }, authorization);
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  async function send(body: Record<string, unknown>): Promise<SentMessage> {
    const response = await call('POST', '/chat/messages', body);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as SentMessage;
  }

  async function history(sessionId: string): Promise<History> {
    const response = await call('GET', `/chat/messages/${sessionId}?limit=100`);
    expect(response.status).toBe(200);
    return (await response.json()) as History;
  }

  /** A session with two exchanges: question 1, answer 1, question 2, answer 2. */
  async function twoExchanges() {
    const sessionId = await createSession();
    const first = await send({ session_id: sessionId, content: 'question 1' });
    const second = await send({ session_id: sessionId, content: 'question 2' });
    return { sessionId, first, second };
  }

  /** The context the model was last sent, as role: content. */
  function lastContext(): string[] {
    const body = fake.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    return body.messages.map((message) => `${message.role}: ${message.content}`);
  }

  it('a session that never branched reads as a chain, each message alone in its version', async () => {
    const { sessionId, first, second } = await twoExchanges();
    const { messages, total } = await history(sessionId);
    expect(total).toBe(4);
    expect(messages.map((message) => message.parent_id)).toEqual([null, first.user_message_id, first.id, second.user_message_id]);
    for (const message of messages) expect(message).toMatchObject({ version: 1, versions: 1, sibling_ids: [message.id] });
    expect(messages[0]).toMatchObject({ role: 'user', prompt_tokens: null, time_to_first_token_ms: null });
    expect(messages[1]!.prompt_tokens).toBeGreaterThan(0);
    expect(messages[1]!.time_to_first_token_ms).toEqual(expect.any(Number));
    expect(second).toMatchObject({ parent_id: second.user_message_id, version: 1, versions: 1, sibling_ids: [second.id] });
  });

  it('an edit makes a second version of the user message; history and the model see only the new branch', async () => {
    const { sessionId, first, second } = await twoExchanges();
    const edited = await send({ session_id: sessionId, content: 'question 2, edited', edit_of: second.user_message_id });
    expect(edited.content).toBe('You said: question 2, edited');
    expect(lastContext()).toEqual(['user: question 1', 'assistant: You said: question 1', 'user: question 2, edited']);

    const { messages, total } = await history(sessionId);
    expect(total).toBe(4);
    expect(messages.map((message) => message.content)).toEqual([
      'question 1',
      'You said: question 1',
      'question 2, edited',
      'You said: question 2, edited',
    ]);
    const editedQuestion = messages[2]!;
    expect(editedQuestion).toMatchObject({
      id: edited.user_message_id,
      parent_id: first.id,
      version: 2,
      versions: 2,
      sibling_ids: [second.user_message_id, edited.user_message_id],
    });
    expect(messages[3]).toMatchObject({ id: edited.id, parent_id: edited.user_message_id, version: 1, versions: 1 });

    // The next turn continues the new branch only.
    await send({ session_id: sessionId, content: 'question 3' });
    expect(lastContext()).toEqual([
      'user: question 1',
      'assistant: You said: question 1',
      'user: question 2, edited',
      'assistant: You said: question 2, edited',
      'user: question 3',
    ]);
  });

  it('regenerating a reply answers the same question again as a new version, without a new user message (JSON)', async () => {
    const { sessionId, second } = await twoExchanges();
    fake.behaviour.reply = 'a second try';
    const response = await call('POST', `/chat/replies/${second.id}/regenerate`);
    expect(response.status).toBe(200);
    const regenerated = (await response.json()) as SentMessage;
    expect(regenerated).toMatchObject({
      content: 'a second try',
      status: 'complete',
      user_message_id: second.user_message_id,
      parent_id: second.user_message_id,
      version: 2,
      versions: 2,
      sibling_ids: [second.id, regenerated.id],
    });
    expect(lastContext()).toEqual(['user: question 1', 'assistant: You said: question 1', 'user: question 2']);
    const { messages, total } = await history(sessionId);
    expect(total).toBe(4);
    expect(messages.map((message) => message.content)).toEqual(['question 1', 'You said: question 1', 'question 2', 'a second try']);
    expect(messages[3]).toMatchObject({ id: regenerated.id, version: 2, versions: 2 });
  });

  it('regenerating streams as POST messages does, message_start naming the question answered', async () => {
    const { sessionId, second } = await twoExchanges();
    fake.behaviour.reply = 'streamed again';
    const response = await call('POST', `/chat/replies/${second.id}/regenerate?stream=true`, { model: 'gpt-4o' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseEvents(await response.text());
    expect(events[0]).toMatchObject({
      type: 'message_start',
      session_id: sessionId,
      user_message_id: second.user_message_id,
      model: 'gpt-4o',
    });
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    const message = (done as Extract<StreamEvent, { type: 'done' }>).message;
    expect(message).toMatchObject({
      content: 'streamed again',
      version: 2,
      versions: 2,
      sibling_ids: [second.id, message.id],
      model: 'gpt-4o',
    });
    expect(fake.requests.at(-1)!.path).toContain('/v1/chat/completions');
  });

  it('PUT branch switches the session back to the old version, and the next turn continues it', async () => {
    const { sessionId, second } = await twoExchanges();
    const edited = await send({ session_id: sessionId, content: 'question 2b', edit_of: second.user_message_id });
    const switched = await call('PUT', `/chat/sessions/${sessionId}/branch`, { message_id: second.user_message_id });
    expect(switched.status).toBe(204);
    const { messages } = await history(sessionId);
    expect(messages.map((message) => message.id)).toEqual([expect.any(String), expect.any(String), second.user_message_id, second.id]);
    expect(messages[2]).toMatchObject({ version: 1, versions: 2, sibling_ids: [second.user_message_id, edited.user_message_id] });
    await send({ session_id: sessionId, content: 'question 3' });
    expect(lastContext().slice(2)).toEqual(['user: question 2', 'assistant: You said: question 2', 'user: question 3']);

    // And forward again, through the edit: below it the newest child, down to its reply.
    expect((await call('PUT', `/chat/sessions/${sessionId}/branch`, { message_id: edited.user_message_id })).status).toBe(204);
    expect((await history(sessionId)).messages.at(-1)!.id).toBe(edited.id);
  });

  it('`model` chooses a model GET /v1/models lists; another one is a 400 naming model', async () => {
    const sessionId = await createSession();
    const listed = (await (await fetch(`${server.url}/v1/models`, { headers: { authorization: alice } })).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((model) => model.id)).toContain('gpt-4o');
    const chosen = await send({ session_id: sessionId, content: 'hello', model: 'gpt-4o' });
    expect(chosen.model).toBe('gpt-4o');
    expect(fake.requests.at(-1)!.body.model).toBe('gpt-4o');
    const byDefault = await send({ session_id: sessionId, content: 'hello again' });
    expect(byDefault.model).toBe('claude-3-5-sonnet-latest');

    fake.reset();
    const unknown = await call('POST', '/chat/messages', { session_id: sessionId, content: 'hi', model: 'gpt-nonexistent' });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('model');
    const regenerate = await call('POST', `/chat/replies/${chosen.id}/regenerate`, { model: 'gpt-nonexistent' });
    expect(regenerate.status).toBe(400);
    expect(((await regenerate.json()) as { error: { message: string } }).error.message).toContain('model');
    expect(fake.requests).toHaveLength(0);
  });

  it('bad edit_of, reply and message ids answer 400 or 404 naming the field, never 500, and store nothing', async () => {
    const { sessionId, first, second } = await twoExchanges();
    const otherSession = await createSession();
    const bobSession = await createSession(bob);
    fake.reset();
    const expectError = async (response: Response, status: number, field?: string) => {
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      if (field !== undefined) expect(body.error.message).toContain(field);
    };
    const post = (body: Record<string, unknown>) => call('POST', '/chat/messages', { content: 'x', ...body });
    await expectError(await post({ session_id: sessionId, edit_of: 'not-an-id' }), 404, 'edit_of');
    await expectError(await post({ session_id: sessionId, edit_of: '01900000-0000-7000-8000-000000000000' }), 404, 'edit_of');
    await expectError(await post({ session_id: sessionId, edit_of: second.id }), 400, 'edit_of');
    await expectError(await post({ session_id: otherSession, edit_of: second.user_message_id }), 404, 'edit_of');
    await expectError(await post({ session_id: sessionId, edit_of: '' }), 400, 'edit_of');
    await expectError(await post({ session_id: sessionId, edit_of: 42 }), 400, 'edit_of');
    await expectError(await call('POST', `/chat/replies/${first.user_message_id}/regenerate`), 404);
    await expectError(await call('POST', '/chat/replies/nonsense/regenerate'), 404);
    await expectError(await call('POST', `/chat/replies/${second.id}/regenerate`, undefined, bob), 404);
    await expectError(await call('POST', `/chat/replies/${second.id}/regenerate`, { model: 7 }), 400, 'model');
    await expectError(await call('PUT', `/chat/sessions/${sessionId}/branch`, { message_id: 'nonsense' }), 404, 'message_id');
    await expectError(await call('PUT', `/chat/sessions/${otherSession}/branch`, { message_id: second.id }), 404, 'message_id');
    await expectError(await call('PUT', `/chat/sessions/${sessionId}/branch`, {}), 400, 'message_id');
    await expectError(await call('PUT', `/chat/sessions/${sessionId}/branch`, { message_id: second.id }, bob), 404);
    await expectError(await call('PUT', `/chat/sessions/${bobSession}/branch`, { message_id: second.id }), 404);
    expect(fake.requests).toHaveLength(0);
    expect((await history(sessionId)).total).toBe(4);
  });

  it('documents the new routes and message fields in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } } | undefined>>;
    };
    expect(document.paths['/api/v1/chat/replies/{message_id}/regenerate']?.post?.requestBody?.required).toBe(false);
    expect(document.paths['/api/v1/chat/sessions/{session_id}/branch']?.put?.requestBody?.required).toBe(true);
    const sendBody = JSON.stringify(document.paths['/api/v1/chat/messages']?.post?.requestBody);
    expect(sendBody).toContain('edit_of');
    expect(sendBody).toContain('model');
    expect(JSON.stringify(document.paths['/api/v1/chat/messages/{session_id}']?.get)).toContain('sibling_ids');
  });
});
