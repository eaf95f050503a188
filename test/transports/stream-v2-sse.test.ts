import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { lastUpstreamMessages, storedSessionMessages } from './stream-v2-inspection.js';

const endpoint = '/api/v2/ai/chat/stream';
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const longReply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');

interface StreamResult {
  status: number;
  headers: Headers;
  text: string;
  /** Every `data:` line's JSON, in order. */
  events: Record<string, unknown>[];
}

/** The seed's first client example, with `console` captured so the test can read what it printed. */
async function seedClientExample(baseUrl: string, token: string): Promise<unknown[]> {
  const printed: unknown[] = [];
  const console = { log: (value: unknown) => printed.push(value) };
  const response = await fetch(`${baseUrl}/api/v2/ai/chat/stream`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${token}`, // optional
    },
    body: JSON.stringify({ message: 'Hello' }),
  });

  const reader = response.body!.getReader();
  const decoder = new TextDecoder();

  while (true) {
    const { done, value } = await reader.read();
    if (done) break;

    const chunk = decoder.decode(value);
    const lines = chunk.split('\n');

    for (const line of lines) {
      if (line.startsWith('data: ')) {
        const data = JSON.parse(line.slice(6));
        if (data.content) {
          console.log(data.content); // Stream content
        }
        if (data.done) {
          console.log('Stream complete');
        }
      }
    }
  }
  return printed;
}

/** The seed's `streamChat` usage example; `updateUI` records every state the UI would show. */
async function seedStreamChat(baseUrl: string, message: string): Promise<string[]> {
  const shown: string[] = [];
  const updateUI = (text: string) => shown.push(text);
  const response = await fetch(`${baseUrl}/api/v2/ai/chat/stream`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message }),
  });

  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let fullResponse = '';

  while (true) {
    const { done, value } = await reader.read();
    if (done) break;

    const chunk = decoder.decode(value);
    const lines = chunk.split('\n');

    for (const line of lines) {
      if (line.startsWith('data: ')) {
        const data = JSON.parse(line.slice(6));
        if (data.content) {
          fullResponse += data.content;
          updateUI(fullResponse); // Update UI in real-time
        }
      }
    }
  }
  return shown;
}

/**
 * Splits an event-stream body into its `data:` JSON objects, each after an
 * `id:` line whose numbers grow (the seed's line-by-line clients skip it),
 * failing on anything else.
 */
function parseDataLines(text: string): Record<string, unknown>[] {
  const blocks = text.split('\n\n');
  expect(blocks.pop()).toBe('');
  let lastId = 0;
  return blocks.map((block) => {
    const [, id, data] = /^id: (\d+)\n(data: [^\n]+)$/.exec(block) ?? [];
    expect(data, block).toBeDefined();
    expect(Number(id)).toBeGreaterThan(lastId);
    lastId = Number(id);
    return JSON.parse(data!.slice(6)) as Record<string, unknown>;
  });
}

/** Asserts the seed's exact line shapes: content lines, then one done line, all with `sessionId` (each after its `id:` line). */
function expectSeedLines(text: string, sessionId: string): string {
  const blocks = text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => block.replace(/^id: \d+\n/, ''));
  const tail = `,"sessionId":${JSON.stringify(sessionId)}}`;
  expect(blocks.at(-1)).toBe(`data: {"done":true${tail}`);
  const contents = blocks.slice(0, -1).map((block) => {
    expect(block.startsWith('data: {"content":')).toBe(true);
    expect(block.endsWith(tail)).toBe(true);
    const data = JSON.parse(block.slice(6)) as { content: string; sessionId: string };
    expect(Object.keys(data)).toEqual(['content', 'sessionId']);
    expect(data.content).not.toBe('');
    return data.content;
  });
  expect(contents.length).toBeGreaterThan(0);
  return contents.join('');
}

describe('the SSE endpoint POST /api/v2/ai/chat/stream', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        JWT_SECRET: testJwtSecret,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        MAX_MESSAGE_CHARS: '2000',
        // These tests pin abort-on-disconnect; test/resume covers the default, detaching.
        TURN_DETACH_SECONDS: '0',
      },
    });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  async function postStream(body: unknown, token?: string, signal?: AbortSignal): Promise<StreamResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.url}${endpoint}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
    const text = await response.text();
    const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
    return { status: response.status, headers: response.headers, text, events: isStream ? parseDataLines(text) : [] };
  }

  const storedMessages = (userId: string, sessionId: string) => storedSessionMessages(server, userId, sessionId);
  const lastUpstream = () => lastUpstreamMessages(fake);

  it("streams the reply to the seed's fetch client example, then prints 'Stream complete'", async () => {
    fake.behaviour.tokenDelayMs = 10;
    const printed = await seedClientExample(server.url, await signToken('ada'));
    expect(printed.at(-1)).toBe('Stream complete');
    const contents = printed.slice(0, -1) as string[];
    expect(contents.join('')).toBe('You said: Hello');
    // One line per upstream token: the reply arrives piece by piece, not in one block.
    expect(contents.length).toBeGreaterThan(1);
  });

  it('answers with exactly the seed lines: content lines in order, then a done line, all with one issued UUID sessionId', async () => {
    fake.behaviour.tokenDelayMs = 5;
    fake.behaviour.reply = 'I can help\nwith "quotes" too';
    const result = await postStream({ message: 'What services do you offer?' }, await signToken('ada'));
    expect(result.status).toBe(200);
    const sessionId = result.events[0]!.sessionId as string;
    expect(sessionId).toMatch(uuidV4);
    expect(expectSeedLines(result.text, sessionId)).toBe('I can help\nwith "quotes" too');
  });

  it("builds the full reply in the seed's streamChat example", async () => {
    fake.behaviour.tokenDelayMs = 5;
    const shown = await seedStreamChat(server.url, 'What services do you offer?');
    expect(shown.at(-1)).toBe('You said: What services do you offer?');
    // Each UI update extends the previous one.
    for (let index = 1; index < shown.length; index++) expect(shown[index]!.startsWith(shown[index - 1]!)).toBe(true);
  });

  it("answers the seed's curl command with the seed lines", async () => {
    const curl = spawn('curl', [
      '-N',
      '-X',
      'POST',
      `${server.url}/api/v2/ai/chat/stream`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"message":"Hello"}',
    ]);
    let stdout = '';
    curl.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exitCode = await new Promise<number | null>((resolve) => curl.once('close', resolve));
    expect(exitCode).toBe(0);
    const sessionId = parseDataLines(stdout)[0]!.sessionId as string;
    expect(sessionId).toMatch(uuidV4);
    expect(expectSeedLines(stdout, sessionId)).toBe('You said: Hello');
  });

  it('sends the headers that keep proxies and caches from holding the stream back', async () => {
    const result = await postStream({ message: 'Hello' });
    expect(result.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(result.headers.get('cache-control')).toContain('no-cache');
    expect(result.headers.get('x-accel-buffering')).toBe('no');
  });

  it("stores the turn in the user's keyed conversation and sends it upstream with the next message", async () => {
    const token = await signToken('bea');
    const first = await postStream({ message: 'My name is Bea', sessionId: 'notes' }, token);
    expect(first.events.every((event) => event.sessionId === 'notes')).toBe(true);

    const { items } = await server.app.store.listConversations('bea', 'stream-v2', { page: 1, limit: 10 });
    expect(items.map((item) => item.clientKey)).toEqual(['notes']);
    const messages = await storedMessages('bea', 'notes');
    expect(messages.map((message) => [message.role, message.content, message.status])).toEqual([
      ['user', 'My name is Bea', 'complete'],
      ['assistant', 'You said: My name is Bea', 'complete'],
    ]);

    await postStream({ message: 'What is my name?', sessionId: 'notes' }, token);
    expect(lastUpstream()).toEqual(['user: My name is Bea', 'assistant: You said: My name is Bea', 'user: What is my name?']);
  });

  it('keeps the histories of two signed-in users who both choose "my-session" apart', async () => {
    const [carl, dina] = await Promise.all([signToken('carl'), signToken('dina')]);
    await postStream({ message: 'Carl secret', sessionId: 'my-session' }, carl);
    await postStream({ message: 'Dina secret', sessionId: 'my-session' }, dina);
    await postStream({ message: 'Carl again', sessionId: 'my-session' }, carl);
    expect(lastUpstream()).toEqual(['user: Carl secret', 'assistant: You said: Carl secret', 'user: Carl again']);
    await postStream({ message: 'Dina again', sessionId: 'my-session' }, dina);
    expect(lastUpstream()).toEqual(['user: Dina secret', 'assistant: You said: Dina secret', 'user: Dina again']);
  });

  it('gives a guest without a sessionId a fresh UUID session that continues when the guest sends it back', async () => {
    const first = await postStream({ message: 'Guest remembers this' });
    const sessionId = first.events[0]!.sessionId as string;
    expect(sessionId).toMatch(uuidV4);
    expect(first.events.every((event) => event.sessionId === sessionId)).toBe(true);
    expect((await storedMessages(`anonymous:${sessionId}`, sessionId)).map((message) => message.content)).toEqual([
      'Guest remembers this',
      'You said: Guest remembers this',
    ]);

    const second = await postStream({ message: 'And this', sessionId });
    expect(second.events.at(-1)).toEqual({ done: true, sessionId });
    expect(lastUpstream()).toEqual(['user: Guest remembers this', 'assistant: You said: Guest remembers this', 'user: And this']);
    // Another guest gets a session of its own.
    expect((await postStream({ message: 'Hi' })).events[0]!.sessionId).not.toBe(sessionId);
  });

  it('gives each guest who chooses "my-session" a fresh session of its own, never another guest\'s', async () => {
    const first = await postStream({ message: 'First guest secret', sessionId: 'my-session' });
    const second = await postStream({ message: 'Second guest', sessionId: 'my-session' });
    const firstSession = first.events[0]!.sessionId as string;
    const secondSession = second.events[0]!.sessionId as string;
    expect(firstSession).toMatch(uuidV4);
    expect(secondSession).toMatch(uuidV4);
    expect(secondSession).not.toBe(firstSession);
    expect(lastUpstream()).toEqual(['user: Second guest']);
  });

  it('refuses an invalid, expired or foreign token with 401 instead of treating the caller as a guest', async () => {
    const expired = await signToken('eve', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const foreign = await signToken('eve', { secret: 'another-secret-that-is-at-least-32-characters' });
    for (const [token, mention] of [
      ['not-a-jwt', 'invalid'],
      [expired, 'expired'],
      [foreign, 'invalid'],
    ] as const) {
      const result = await postStream({ message: 'Hello' }, token);
      expect(result.status).toBe(401);
      expect(JSON.parse(result.text)).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining(mention) } });
    }
    const malformed = await fetch(`${server.url}${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ message: 'Hello' }),
    });
    expect(malformed.status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a bad body with 400 naming the field, and stays healthy', async () => {
    const cases: [body: unknown, mention: string][] = [
      [{}, 'message'],
      [{ message: 42 }, 'message'],
      [{ message: '' }, 'message'],
      [{ message: 'Hello', sessionId: '' }, 'sessionId'],
      [{ message: 'Hello', sessionId: 'x'.repeat(201) }, 'sessionId'],
      [{ message: 'Hello', sessionId: 7 }, 'sessionId'],
      ['{"message": "Hello"', 'JSON'],
    ];
    for (const [body, mention] of cases) {
      const result = await postStream(body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      const { error } = JSON.parse(result.text) as { error: { code: string; message: string } };
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(mention);
    }
    expect(fake.requests).toHaveLength(0);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await postStream({ message: 'Still there?' })).events.at(-1)).toMatchObject({ done: true });
  });

  it('refuses a turn the server will not start with a JSON status, before any stream opens', async () => {
    const result = await postStream({ message: 'x'.repeat(2001) }, await signToken('ida'));
    expect(result.status).toBe(413);
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(result.text)).toEqual({
      error: { code: 'payload_too_large', message: 'The message is 2001 characters; the limit is 2000' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('aborts the upstream at once when the client goes away, and stores the partial reply as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const controller = new AbortController();
    const response = await fetch(`${server.url}${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken('finn')}` },
      body: JSON.stringify({ message: 'Tell me a long story', sessionId: 'story' }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    while (!received.includes('word3')) received += new TextDecoder().decode((await reader.read()).value);
    const abortedAt = performance.now();
    controller.abort();
    await fake.waitForAborts(1, 1000);
    expect(performance.now() - abortedAt).toBeLessThan(250);

    await expect.poll(async () => (await storedMessages('finn', 'story'))[1]?.status, { timeout: 2000 }).toBe('interrupted');
    const reply = (await storedMessages('finn', 'story'))[1]!;
    expect(reply.content.startsWith('word0 word1 word2 word3')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
  });

  it('ends the stream with an error line and stores the partial reply as failed when the provider dies midway', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.dropAfterTokens = 10;
    const result = await postStream({ message: 'Tell me a long story', sessionId: 'broken' }, await signToken('gus'));
    expect(result.status).toBe(200);
    const last = result.events.at(-1);
    expect(last).toEqual({ error: 'OpenAI closed the stream before finishing', code: 'provider_error', sessionId: 'broken' });
    expect(result.events.some((event) => event.done === true)).toBe(false);
    expect(
      result.events
        .slice(0, -1)
        .map((event) => event.content)
        .join(''),
    ).toBe(longReply.split(' ').slice(0, 10).join(' '));
    const reply = (await storedMessages('gus', 'broken'))[1]!;
    expect(reply.status).toBe('failed');
    expect(reply.content).toBe(longReply.split(' ').slice(0, 10).join(' '));
  });

  it('reports a provider that refuses the request as the error line of a stream, since the turn had started', async () => {
    fake.failNext({ status: 401 });
    const result = await postStream({ message: 'Hello', sessionId: 'refused' }, await signToken('hal'));
    expect(result.status).toBe(200);
    expect(result.events).toEqual([
      { error: expect.stringContaining('OPENAI_API_KEY'), code: 'provider_auth_failed', sessionId: 'refused' },
    ]);
    // The user message is kept, so the client can retry in the same session; the reply ended failed, empty.
    expect((await storedMessages('hal', 'refused')).map(({ role, status, content }) => ({ role, status, content }))).toEqual([
      { role: 'user', status: 'complete', content: 'Hello' },
      { role: 'assistant', status: 'failed', content: '' },
    ]);
  });
});

describe('the SSE endpoint in single-user local mode', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl } });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('treats every caller as the local user, with or without an Authorization header', async () => {
    for (const authorization of [undefined, 'Bearer anything']) {
      const response = await fetch(`${server.url}${endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ message: 'Hello', sessionId: 'desk' }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    const { items } = await server.app.store.listConversations('local', 'stream-v2', { page: 1, limit: 10 });
    expect(items.map((item) => [item.clientKey, item.messageCount])).toEqual([['desk', 4]]);
  });
});
