import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('the Anthropic provider behind the OpenAI-compatible API', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        CLAUDE_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        // These tests see each upstream failure as it is; test/providers/resilience.test.ts covers retries.
        PROVIDER_MAX_RETRIES: '0',
      },
    });
    client = new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('streams a claude model through the Messages API with its system prompt apart, and stores the provider', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-3-5-sonnet-latest',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello Claude' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    expect(text).toBe('You said: Hello Claude');
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/v1/messages');
    // Anthropic's client (1.x) sends the key as a bearer token.
    expect(request.headers.authorization).toBe('Bearer sk-ant-test');
    expect(request.body).toMatchObject({
      model: 'claude-3-5-sonnet-latest',
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Hello Claude' }],
      stream: true,
    });
    expect(usage?.completion_tokens).toBe(4);

    const { items } = await server.app.store.listConversations('local', 'openai', { page: 1, limit: 1 });
    const { items: messages } = await server.app.store.listMessages('local', items[0]!.id, { page: 1, limit: 10 });
    expect(messages[1]).toMatchObject({
      provider: 'anthropic',
      model: 'claude-3-5-sonnet-latest',
      completionTokens: 4,
      status: 'complete',
    });
  });

  it('honours an explicit provider prefix and sends the model name without it', async () => {
    await client.chat.completions.create({ model: 'anthropic/claude-3-haiku', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.requests.at(-1)?.body).toMatchObject({ model: 'claude-3-haiku' });
    await client.chat.completions.create({ model: 'openai/some-local-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { model: 'some-local-model' } });
  });

  it('merges consecutive same-role messages, which the Messages API refuses', async () => {
    await client.chat.completions.create({
      model: 'claude-3-haiku',
      messages: [
        { role: 'assistant', content: 'greeting first' },
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
      ],
    });
    expect(fake.requests.at(-1)?.body).toMatchObject({ messages: [{ role: 'user', content: 'one\n\ntwo' }] });
  });

  it('maps an Anthropic rate limit to 429 with its Retry-After', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '3' } });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-3-haiku', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
  });
});
