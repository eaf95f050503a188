import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';

/**
 * POST /v1/messages, the Anthropic Messages API, driven by the official
 * Anthropic SDK, unchanged, on a Claude model and on an OpenAI model: the
 * fake upstream receives each provider's own format and checks its tool
 * history, so a translation bug fails here.
 */
describe('the Anthropic Messages API', () => {
  let harness: UpstreamHarness;
  let client: Anthropic;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ PROVIDER_MAX_RETRIES: '0' });
    client = new Anthropic({ apiKey: 'ignored-in-local-mode', baseURL: harness.server.url, maxRetries: 0 });
  });
  afterEach(() => harness.fake.reset());
  afterAll(() => harness.close());

  const weather: Tool = {
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  };
  const question = 'What is the weather in Paris?';
  const toolResult = '18C and sunny';

  for (const [model, upstreamPath] of [
    ['claude-3-5-sonnet-latest', '/v1/messages'],
    ['gpt-4o-mini', '/v1/chat/completions'],
  ] as const) {
    describe(`on ${model}`, () => {
      it('streams a reply as message_start … message_stop, with the system prompt and stop sequences passed on', async () => {
        const stream = client.messages.stream({
          model,
          max_tokens: 256,
          system: 'Be brief.',
          stop_sequences: ['END'],
          messages: [{ role: 'user', content: 'Hello there' }],
        });
        const types: string[] = [];
        for await (const event of stream) types.push(event.type);
        const message = await stream.finalMessage();
        expect(message.content).toEqual([{ type: 'text', text: 'You said: Hello there' }]);
        expect(message.stop_reason).toBe('end_turn');
        expect(message.usage.output_tokens).toBeGreaterThan(0);
        expect(message.usage.input_tokens).toBeGreaterThan(0);
        expect(types[0]).toBe('message_start');
        expect(types[1]).toBe('content_block_start');
        expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
        const sent = harness.fake.requests.at(-1)!;
        expect(sent.path).toBe(upstreamPath);
        if (upstreamPath === '/v1/messages')
          expect(sent.body).toMatchObject({ system: 'Be brief.', stop_sequences: ['END'], max_tokens: 256 });
        else {
          expect(sent.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
          expect(sent.body).toMatchObject({ stop: ['END'], max_tokens: 256 });
        }
      });

      it('runs a two-step tool conversation, streamed: tool_use with input_json_delta, then the answer to the tool_result', async () => {
        harness.fake.behaviour.tokenDelayMs = 5;
        const stream = client.messages.stream({
          model,
          max_tokens: 256,
          tools: [weather],
          messages: [{ role: 'user', content: question }],
        });
        let jsonDeltas = 0;
        stream.on('inputJson', () => jsonDeltas++);
        const first = await stream.finalMessage();
        expect(first.stop_reason).toBe('tool_use');
        const use = first.content.find((block) => block.type === 'tool_use');
        expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { text: question } });
        expect(jsonDeltas).toBeGreaterThan(1);
        const offered = harness.fake.requests.at(-1)!.body;
        if (upstreamPath === '/v1/messages') expect(offered.tools).toEqual([weather]);
        else
          expect(offered.tools).toEqual([
            { type: 'function', function: { name: 'get_weather', description: weather.description, parameters: weather.input_schema } },
          ]);

        const second = client.messages.stream({ model, max_tokens: 256, tools: [weather], messages: followUp(first.content) });
        const answer = await second.finalMessage();
        expect(answer.content).toEqual([{ type: 'text', text: `The tool said: ${toolResult}` }]);
        expectToolResultSent(upstreamPath, use!.type === 'tool_use' ? use!.id : '');
      });

      it('runs a two-step tool conversation without streaming', async () => {
        const first = await client.messages.create({
          model,
          max_tokens: 256,
          tools: [weather],
          messages: [{ role: 'user', content: question }],
        });
        expect(first.stop_reason).toBe('tool_use');
        const use = first.content[0];
        expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { text: question } });
        const answer = await client.messages.create({ model, max_tokens: 256, tools: [weather], messages: followUp(first.content) });
        expect(answer).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
        expect(answer.content).toEqual([{ type: 'text', text: `The tool said: ${toolResult}` }]);
        expectToolResultSent(upstreamPath, use?.type === 'tool_use' ? use.id : '');
      });

      it('sends an image block as the provider takes images', async () => {
        const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
        const message = await client.messages.create({
          model,
          max_tokens: 64,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pixel } },
                { type: 'text', text: 'What is this?' },
              ],
            },
          ],
        });
        expect(message.content).toEqual([{ type: 'text', text: 'You said: What is this?' }]);
        const content = harness.fake.requests.at(-1)!.body.messages.at(-1).content;
        if (upstreamPath === '/v1/messages') {
          expect(content).toEqual([
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pixel } },
            { type: 'text', text: 'What is this?' },
          ]);
        } else {
          expect(content).toEqual([
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
            { type: 'text', text: 'What is this?' },
          ]);
        }
      });

      it('stops a tool_use stream midway when the client aborts: the upstream request is aborted', async () => {
        harness.fake.behaviour.tokenDelayMs = 100;
        const stream = client.messages.stream({
          model,
          max_tokens: 256,
          tools: [weather],
          messages: [{ role: 'user', content: question }],
        });
        // The SDK rejects its pending promises with an abort error, which is what aborting means here.
        stream.on('error', () => {});
        stream.finalMessage().catch(() => {});
        await new Promise<void>((resolve) => stream.on('inputJson', () => resolve()));
        stream.abort();
        await harness.fake.waitForAborts(1);
      });
    });
  }

  function followUp(content: Anthropic.ContentBlock[]): MessageParam[] {
    const use = content.find((block) => block.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use block');
    return [
      { role: 'user', content: question },
      { role: 'assistant', content: [{ type: 'tool_use', id: use.id, name: use.name, input: use.input }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: toolResult }] },
    ];
  }

  function expectToolResultSent(upstreamPath: string, id: string): void {
    const messages = harness.fake.requests.at(-1)!.body.messages;
    if (upstreamPath === '/v1/messages') {
      expect(messages.at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: toolResult }] });
    } else {
      expect(messages.at(-2).tool_calls).toEqual([
        { id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify({ text: question }) } },
      ]);
      expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: id, content: toolResult });
    }
  }

  it("answers errors in Anthropic's shape, naming the field, so the SDK raises its typed errors", async () => {
    const missing = await client.messages
      .create({ model: 'claude-3-5-sonnet-latest', messages: [{ role: 'user', content: 'Hi' }] } as never)
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Anthropic.BadRequestError);
    expect((missing as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
    });
    const openAIOnly = await client.messages
      .create({ model: 'gpt-4o-mini', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'Hi' }] } as never)
      .catch((error: unknown) => error);
    expect(openAIOnly).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((openAIOnly as Error).message)).toContain('top_k');
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('requires a known anthropic-version header, as Anthropic does', async () => {
    const send = (headers: Record<string, string>) =>
      fetch(`${harness.server.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...headers },
        body: JSON.stringify({ model: 'claude-3-5-sonnet-latest', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
      });
    const without = await send({});
    expect(without.status).toBe(400);
    expect(await without.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
    const unknown = await send({ 'anthropic-version': 'latest' });
    expect(unknown.status).toBe(400);
    const known = await send({ 'anthropic-version': '2023-06-01' });
    expect(known.status).toBe(200);
  });
});

describe('the Anthropic Messages API with the demo model', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers any model with the demo model when no provider is configured', async () => {
    const client = new Anthropic({ apiKey: 'anything', baseURL: server.url, maxRetries: 0 });
    const message = await client.messages.create({
      model: 'claude-3-5-sonnet-latest',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.model).toBe('parley-demo');
    expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('demo model') });
  });
});
