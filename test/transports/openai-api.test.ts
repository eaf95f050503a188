import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const userMessage = 'Hello there';

describe('the OpenAI-compatible API with the demo model', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers /health with the database checked', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', database: 'sqlite', demoMode: true });
  });

  it('answers with the demo model, saying what it is and how to configure a real one', async () => {
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: userMessage }] });
    const content = completion.choices[0]?.message.content ?? '';
    expect(content).toContain('demo model');
    expect(content).toContain('OPENAI_API_KEY');
    expect(completion.model).toBe('parley-demo');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(10);
  });

  it('lists the demo model', async () => {
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['parley-demo']);
  });
});

describe('the OpenAI-compatible API in front of an OpenAI upstream', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl } });
    client = new OpenAI({ apiKey: 'ignored-in-local-mode', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('streams the upstream reply in OpenAI chunks, with usage, and stores the turn', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Earlier question' },
        { role: 'assistant', content: 'Earlier answer' },
        { role: 'user', content: userMessage },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(`You said: ${userMessage}`);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);

    // The upstream got the system prompt and the client's history, in order.
    const sent = fake.requests.at(-1)?.body as { messages: { role: string; content: string }[]; model: string };
    expect(sent.model).toBe('gpt-4o-mini');
    expect(sent.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);

    const { items } = await server.app.store.listConversations('local', 'openai', { page: 1, limit: 10 });
    const conversation = items[0]!;
    expect(conversation.systemPrompt).toBe('Be brief.');
    const { items: messages } = await server.app.store.listMessages('local', conversation.id, { page: 1, limit: 10 });
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['user', userMessage],
      ['assistant', text],
    ]);
    const reply = messages[1]!;
    expect(chunks[0]?.id).toBe(`chatcmpl-${reply.id}`);
    expect(reply).toMatchObject({
      status: 'complete',
      model: 'gpt-4o-mini',
      provider: 'openai',
      completionTokens: usage?.completion_tokens,
      promptTokens: usage?.prompt_tokens,
    });
    expect(reply.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(reply.latencyMs).toBeGreaterThanOrEqual(reply.timeToFirstTokenMs!);
  });

  it('reuses its upstream connection from one streamed reply to the next', async () => {
    const stream = async () => {
      const chunks = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      });
      for await (const chunk of chunks) void chunk;
    };
    await stream();
    const connections = fake.connectionCount;
    for (let turn = 0; turn < 5; turn++) await stream();
    expect(fake.connectionCount).toBe(connections);
  });

  it('answers without streaming in the chat.completion shape', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: userMessage }],
      max_tokens: 50,
      temperature: 0.2,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: `You said: ${userMessage}` });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
    const sent = fake.requests.at(-1)?.body as { max_tokens: number; temperature: number };
    expect(sent).toMatchObject({ max_tokens: 50, temperature: 0.2 });
  });

  it('reports finish_reason length when max_tokens cuts the reply', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'one two three four five' }],
      max_tokens: 2,
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });
});
