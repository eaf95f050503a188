import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const longReply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');

function chatRequest(stream: boolean, model = 'gpt-4o-mini') {
  return { model, messages: [{ role: 'user', content: 'Tell me a long story' }], stream };
}

describe('upstream failures and cancellation on the OpenAI-compatible API', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, PROVIDER_MAX_RETRIES: '0' } });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async function lastReply() {
    const { items } = await server.app.store.listConversations('local', 'openai', { page: 1, limit: 1 });
    const { items: messages } = await server.app.store.listMessages('local', items[0]!.id, { page: 1, limit: 10 });
    return messages;
  }

  it('aborts the upstream within 100 ms when the client goes away, and stores the partial reply as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 20;
    const controller = new AbortController();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatRequest(true)),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    while (!received.includes('word5')) received += new TextDecoder().decode((await reader.read()).value);
    const abortedAt = performance.now();
    controller.abort();
    await fake.waitForAborts(1, 1000);
    expect(performance.now() - abortedAt).toBeLessThan(100);

    await expect.poll(async () => (await lastReply())[1]?.status, { timeout: 2000 }).toBe('interrupted');
    const reply = (await lastReply())[1]!;
    expect(reply.content.startsWith('word0 word1 word2 word3 word4 word5')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
    // The upstream reported no usage before the cut, so Parley counted what was produced.
    expect(reply.completionTokens).toBeGreaterThan(5);
    expect(reply.promptTokens).toBeGreaterThan(0);
    const usage = await server.app.store.getUsage('local');
    expect(usage.completionTokens).toBeGreaterThanOrEqual(reply.completionTokens!);
  });

  it('ends the stream with an error event and stores the partial reply as failed when the upstream dies midway', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.dropAfterTokens = 10;
    const response = await post(chatRequest(true));
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('word9');
    expect(body).toMatch(/data: \{"error":\{"message":"OpenAI closed the stream before finishing"/);
    expect(body).not.toContain('[DONE]');
    const reply = (await lastReply())[1]!;
    expect(reply.status).toBe('failed');
    expect(reply.content).toBe(longReply.split(' ').slice(0, 10).join(' '));
  });

  it.each([
    { name: 'a garbled event', raw: 'data: {not json\n\n', message: 'OpenAI sent an event that could not be read' },
    { name: 'a stream that ends without finishing', raw: '', message: 'OpenAI closed the stream before finishing' },
  ])('reports $name from the upstream as a 502 provider_error, and stores the reply as failed', async ({ raw, message }) => {
    fake.behaviour.reply = longReply;
    fake.behaviour.breakAfterTokens = { tokens: 3, raw };
    const response = await post(chatRequest(false));
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'provider_error',
      message,
    });
    const reply = (await lastReply())[1]!;
    expect(reply).toMatchObject({ status: 'failed', content: 'word0 word1 word2' });

    fake.behaviour.breakAfterTokens = { tokens: 3, raw };
    const streamed = await (await post(chatRequest(true))).text();
    expect(streamed).toContain(`data: {"error":{"message":"${message}"`);
    expect(streamed).not.toContain('[DONE]');
  });

  it('surfaces a mid-stream failure to the official client as an error', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.dropAfterTokens = 3;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await expect(async () => {
      for await (const chunk of stream) void chunk;
    }).rejects.toThrow(/closed the stream before finishing/);
  });

  it('maps an unknown model to 400 with the upstream message', async () => {
    const response = await post(chatRequest(false, 'missing-model'));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; code: string; type: string } };
    expect(body.error.code).toBe('model_not_found');
    expect(body.error.message).toContain("The model 'missing-model' does not exist");
    expect(body.error.type).toBe('invalid_request_error');
  });

  it('passes an upstream rate limit on as 429 with Retry-After', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '7' } });
    const response = await post(chatRequest(true));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('provider_rate_limited');
  });

  it('maps an upstream 500 to 502', async () => {
    fake.failNext({ status: 500 });
    const response = await post(chatRequest(false));
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('provider_error');
  });

  it('stores the user message and an empty failed reply, billed nothing, when the upstream refuses the request', async () => {
    fake.failNext({ status: 500 });
    await post(chatRequest(false));
    const messages = await lastReply();
    expect(
      messages.map(({ role, status, content, promptTokens, completionTokens }) => ({
        role,
        status,
        content,
        tokens: (promptTokens ?? 0) + (completionTokens ?? 0),
      })),
    ).toEqual([
      { role: 'user', status: 'complete', content: expect.any(String), tokens: 0 },
      { role: 'assistant', status: 'failed', content: '', tokens: 0 },
    ]);
  });

  it('answers invalid input with a 4xx naming the problem, never a 5xx', async () => {
    const cases: [body: unknown, status: number, mention: string][] = [
      ['{"model": "gpt-4o", "messages": [', 400, 'JSON'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 400, 'model'],
      [{ model: 'gpt-4o', messages: 'hi' }, 400, 'messages'],
      [{ model: 'gpt-4o', messages: [] }, 400, 'messages'],
      [{ model: 'gpt-4o', messages: [{ role: 'wizard', content: 'hi' }] }, 400, 'role'],
      [{ model: 'gpt-4o', messages: [{ role: 'assistant', content: 'hi' }] }, 400, 'last message'],
      [
        {
          model: 'gpt-4o',
          messages: [
            { role: 'tool', content: 'x', tool_call_id: '1' },
            { role: 'user', content: 'hi' },
          ],
        },
        400,
        'tool',
      ],
      [{ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 400, 'temperature'],
      [{ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] }, 413, 'larger'],
    ];
    for (const [body, status, mention] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const error = ((await response.json()) as { error: { message: string } }).error;
      expect(error.message).toContain(mention);
    }
    expect(fake.requests).toHaveLength(0);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('routes claude models to a provider that is not configured with a clear 400', async () => {
    const response = await post(chatRequest(false, 'claude-3-5-sonnet-latest'));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('ANTHROPIC_API_KEY');
  });
});

describe('upstream credentials and reachability', () => {
  it('answers 502 naming the provider, without the key, when the upstream rejects the key', async () => {
    const fake = await FakeUpstream.start();
    const server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-bad', OPENAI_BASE_URL: fake.openaiBaseUrl } });
    try {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatRequest(false)),
      });
      expect(response.status).toBe(502);
      const text = await response.text();
      expect(text).toContain('OpenAI rejected');
      expect(text).toContain('OPENAI_API_KEY');
      expect(text).not.toContain('sk-bad');
    } finally {
      await server.close();
      await fake.close();
    }
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const fake = await FakeUpstream.start();
    const unreachable = fake.openaiBaseUrl;
    await fake.close();
    const server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: unreachable } });
    try {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatRequest(true)),
      });
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('provider_unreachable');
    } finally {
      await server.close();
    }
  });
});
