import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const longReply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');

interface StreamEvent {
  type: string;
  [field: string]: any;
}

/**
 * Splits an SSE body into its events, checking each is exactly one `data:`
 * line as the protocol promises, after an `id:` line whose numbers grow
 * (what EventSource sends back as Last-Event-ID).
 */
function parseEvents(text: string): StreamEvent[] {
  let lastId = 0;
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [, id, data] = /^id: (\d+)\n(data: [^\n]+)$/.exec(block) ?? [];
      expect(data, block).toBeDefined();
      expect(Number(id)).toBeGreaterThan(lastId);
      lastId = Number(id);
      return JSON.parse(data!.slice('data: '.length)) as StreamEvent;
    });
}

describe('seed 002 chat messages streamed as Server-Sent Events', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let authorization: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        JWT_SECRET: testJwtSecret,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        TURN_DETACH_SECONDS: '0',
      },
    });
    authorization = `Bearer ${await signToken('creator')}`;
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  async function createSession(): Promise<string> {
    const response = await fetch(`${server.url}/api/v1/chat/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: authorization },
      body: JSON.stringify({ title: 'New Chat', mode: 'general' }),
    });
    return ((await response.json()) as { id: string }).id;
  }

  async function history(sessionId: string): Promise<StreamEvent[]> {
    const response = await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`, { headers: { Authorization: authorization } });
    return ((await response.json()) as { messages: StreamEvent[] }).messages;
  }

  function postMessage(
    session_id: string,
    content: string,
    options: { query?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ) {
    return fetch(`${server.url}/api/v1/chat/messages${options.query ?? '?stream=true'}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: authorization, ...options.headers },
      body: JSON.stringify({ session_id, content }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  it("streams the reply to the seed's fetch + getReader() client, ending with the stored message's id, tokens and latency", async () => {
    const session_id = await createSession();
    const content = 'Can you help me come up with a viral video idea?';
    const replyText = `You said: ${content}`;
    // Tokens a few ms apart arrive in separate network reads, so the client sees the reply grow.
    fake.behaviour.tokenDelayMs = 5;

    // The seed's frontend snippet, with NEXT_PUBLIC_API_URL in front of its path.
    const response = await fetch(`${server.url}/api/v1/chat/messages?stream=true`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: authorization },
      body: JSON.stringify({ session_id, content }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let reads = 0;
    for (;;) {
      const { done, value } = await reader!.read();
      if (done) break;
      reads++;
      text += decoder.decode(value, { stream: true });
    }

    const events = parseEvents(text);
    const [start, ...rest] = events;
    const finish = rest.pop()!;
    expect(start).toEqual({
      type: 'message_start',
      session_id,
      user_message_id: expect.stringMatching(uuid),
      message_id: expect.stringMatching(uuid),
      model: 'claude-3-5-sonnet-latest',
    });
    expect(rest.every((event) => event.type === 'delta')).toBe(true);
    expect(rest.length).toBeGreaterThan(1);
    expect(reads).toBeGreaterThan(1);
    expect(rest.map((event) => event.content).join('')).toBe(replyText);

    expect(finish).toEqual({
      type: 'done',
      message: {
        id: start!.message_id,
        session_id,
        user_id: 'creator',
        role: 'assistant',
        content: replyText,
        // Claude's reported output tokens: the fake streams one per word.
        tokens: replyText.split(' ').length,
        latency_ms: expect.any(Number),
        created_at: expect.any(String),
        status: 'complete',
        model: 'claude-3-5-sonnet-latest',
        user_message_id: start!.user_message_id,
        parent_id: start!.user_message_id,
        version: 1,
        versions: 1,
        sibling_ids: [start!.message_id],
        prompt_tokens: expect.any(Number),
        time_to_first_token_ms: expect.any(Number),
      },
    });

    const stored = await history(session_id);
    const { user_message_id: userMessageId, ...reply } = finish.message;
    expect(stored).toEqual([
      expect.objectContaining({
        id: userMessageId,
        role: 'user',
        content,
        tokens: expect.any(Number),
        latency_ms: null,
        status: 'complete',
      }),
      reply,
    ]);
    expect(stored[0]!.tokens).toBeGreaterThan(0);
    expect(reply.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('streams when the client asks with Accept: text/event-stream instead of ?stream=true', async () => {
    const sessionId = await createSession();
    const response = await postMessage(sessionId, 'hello', { query: '', headers: { Accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseEvents(await response.text());
    expect(events[0]?.type).toBe('message_start');
    expect(events.at(-1)?.type).toBe('done');
    expect(
      events
        .slice(1, -1)
        .map((event) => event.content)
        .join(''),
    ).toBe('You said: hello');
  });

  it('answers JSON when ?stream=false, whatever the Accept header says', async () => {
    const sessionId = await createSession();
    const response = await postMessage(sessionId, 'hello', { query: '?stream=false', headers: { Accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(((await response.json()) as { content: string }).content).toBe('You said: hello');
  });

  it('aborts the Claude request when the client goes away mid-stream and stores the partial reply as interrupted', async () => {
    const sessionId = await createSession();
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const controller = new AbortController();
    const response = await postMessage(sessionId, 'Tell me a long story', { signal: controller.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('word3')) received += decoder.decode((await reader.read()).value, { stream: true });
    controller.abort();
    await fake.waitForAborts(1, 1000);

    await expect.poll(async () => (await history(sessionId))[1]?.status, { timeout: 2000 }).toBe('interrupted');
    const reply = (await history(sessionId))[1]!;
    expect(reply.content.startsWith('word0 word1 word2 word3')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
    expect(reply.tokens).toBeGreaterThanOrEqual(4);
  });

  it('ends the stream with an error event and stores the partial reply as failed when Claude dies midway', async () => {
    const sessionId = await createSession();
    fake.behaviour.reply = longReply;
    fake.behaviour.dropAfterTokens = 5;
    const response = await postMessage(sessionId, 'Tell me a long story');
    expect(response.status).toBe(200);
    const events = parseEvents(await response.text());
    const last = events.at(-1)!;
    expect(last).toEqual({ type: 'error', code: expect.stringMatching(/^provider_/), message: expect.stringContaining('Anthropic') });
    expect(
      events
        .filter((event) => event.type === 'delta')
        .map((event) => event.content)
        .join(''),
    ).toBe('word0 word1 word2 word3 word4');
    const reply = (await history(sessionId))[1]!;
    expect(reply).toMatchObject({ role: 'assistant', status: 'failed', content: 'word0 word1 word2 word3 word4' });
  });

  it('answers 404 with a JSON error, not a stream, for an unknown session', async () => {
    const response = await postMessage('00000000-0000-4000-8000-000000000000', 'hello');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'Chat session not found' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers with a status code and a JSON error when Claude refuses the request before any reply', async () => {
    const sessionId = await createSession();
    fake.failNext({ status: 401 });
    const response = await postMessage(sessionId, 'hello');
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('provider_auth_failed');
  });
});
