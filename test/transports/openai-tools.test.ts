import Database from 'libsql';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';

/**
 * Tools, images and structured output through /v1/chat/completions with
 * the official client, on a model routed to OpenAI and one routed to
 * Anthropic. The fake upstream checks that the tool history it gets is in
 * its own API's format (tool messages answer tool_calls; tool_result blocks
 * answer tool_use blocks), so a translation bug fails here.
 */
describe('/v1/chat/completions with tools, images and JSON output', () => {
  let harness: UpstreamHarness;
  let client: OpenAI;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ PROVIDER_MAX_RETRIES: '0' });
    client = new OpenAI({ apiKey: 'ignored-in-local-mode', baseURL: `${harness.server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => harness.fake.reset());
  afterAll(() => harness.close());

  const weather: ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
  };
  const question = 'What is the weather in Paris?';
  const toolResult = '18C and sunny';

  /** The model's tool call, streamed, as the client assembles it from the deltas. */
  async function streamedToolCall(model: string) {
    // Apart in time, the argument fragments come in reads of their own (fragments that arrive together travel as one).
    harness.fake.behaviour.tokenDelayMs = 5;
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: question }],
      tools: [weather],
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls: { id: string; name: string; arguments: string }[] = [];
    let finishReason: string | null = null;
    let fragments = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      for (const delta of choice.delta.tool_calls ?? []) {
        if (delta.id !== undefined) calls[delta.index] = { id: delta.id, name: delta.function?.name ?? '', arguments: '' };
        if (delta.function?.arguments) {
          calls[delta.index]!.arguments += delta.function.arguments;
          fragments++;
        }
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
    return { calls, finishReason, fragments, usage };
  }

  function followUp(call: { id: string; name: string; arguments: string }): ChatCompletionMessageParam[] {
    return [
      { role: 'user', content: question },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
      },
      { role: 'tool', tool_call_id: call.id, content: toolResult },
    ];
  }

  for (const [model, upstreamPath] of [
    ['gpt-4o-mini', '/v1/chat/completions'],
    ['claude-3-5-sonnet-latest', '/v1/messages'],
  ] as const) {
    describe(`on ${model}`, () => {
      it('streams a tool call as OpenAI does, then answers with the tool result the client sends back', async () => {
        const first = await streamedToolCall(model);
        expect(first.finishReason).toBe('tool_calls');
        expect(first.calls).toHaveLength(1);
        expect(first.calls[0]).toMatchObject({ name: 'get_weather' });
        expect(JSON.parse(first.calls[0]!.arguments)).toEqual({ text: question });
        // The arguments arrive in fragments, as the upstream streamed them.
        expect(first.fragments).toBeGreaterThan(1);
        expect(first.usage?.completion_tokens).toBeGreaterThan(0);
        const offered = harness.fake.requests.at(-1)!;
        expect(offered.path).toBe(upstreamPath);
        if (upstreamPath === '/v1/messages') {
          expect(offered.body.tools).toEqual([
            { name: 'get_weather', description: 'The weather in a city', input_schema: weather.function.parameters },
          ]);
        } else expect(offered.body.tools).toEqual([weather]);

        const stream = await client.chat.completions.create({ model, messages: followUp(first.calls[0]!), tools: [weather], stream: true });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe(`The tool said: ${toolResult}`);
        const answered = harness.fake.requests.at(-1)!.body;
        if (upstreamPath === '/v1/messages') {
          expect(answered.messages.at(-2).content).toEqual([
            { type: 'tool_use', id: first.calls[0]!.id, name: 'get_weather', input: { text: question } },
          ]);
          expect(answered.messages.at(-1)).toEqual({
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: first.calls[0]!.id, content: toolResult }],
          });
        } else {
          expect(answered.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: first.calls[0]!.id, content: toolResult });
        }
      });

      it('answers a tool call and the follow-up without streaming', async () => {
        const first = await client.chat.completions.create({ model, messages: [{ role: 'user', content: question }], tools: [weather] });
        const choice = first.choices[0]!;
        expect(choice.finish_reason).toBe('tool_calls');
        expect(choice.message.content).toBeNull();
        const call = choice.message.tool_calls?.[0];
        expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
        if (call?.type !== 'function') throw new Error('no function call');
        expect(JSON.parse(call.function.arguments)).toEqual({ text: question });

        const second = await client.chat.completions.create({
          model,
          messages: followUp({ id: call.id, name: call.function.name, arguments: call.function.arguments }),
          tools: [weather],
        });
        expect(second.choices[0]?.message.content).toBe(`The tool said: ${toolResult}`);
        expect(second.choices[0]?.finish_reason).toBe('stop');
      });

      it('passes tool_choice naming a tool, and parallel_tool_calls false, in the provider names', async () => {
        await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: question }],
          tools: [weather],
          tool_choice: { type: 'function', function: { name: 'get_weather' } },
          parallel_tool_calls: false,
        });
        const body = harness.fake.requests.at(-1)!.body;
        if (upstreamPath === '/v1/messages') {
          expect(body.tool_choice).toEqual({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
        } else {
          expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
          expect(body.parallel_tool_calls).toBe(false);
        }
      });

      it('sends an image prompt as the provider takes images', async () => {
        const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
        const completion = await client.chat.completions.create({
          model,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is in these pictures?' },
                { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
                { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
              ],
            },
          ],
        });
        expect(completion.choices[0]?.message.content).toBe('You said: What is in these pictures?');
        const content = harness.fake.requests.at(-1)!.body.messages.at(-1).content;
        if (upstreamPath === '/v1/messages') {
          expect(content).toEqual([
            { type: 'text', text: 'What is in these pictures?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pixel } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ]);
        } else {
          expect(content).toEqual([
            { type: 'text', text: 'What is in these pictures?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ]);
        }
      });

      it('stops a tool-call stream midway: the upstream request is aborted and the partial call is stored', async () => {
        harness.fake.behaviour.tokenDelayMs = 100;
        const stream = await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: question }],
          tools: [weather],
          stream: true,
        });
        let sawCall = false;
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments) {
            sawCall = true;
            stream.controller.abort();
            break;
          }
        }
        expect(sawCall).toBe(true);
        await harness.fake.waitForAborts(1);
        await expect.poll(() => storedReplies(harness).at(-1)?.status).toBe('interrupted');
        const stored = storedReplies(harness).at(-1)!;
        expect(JSON.parse(stored.tool_calls!)[0]).toMatchObject({ name: 'get_weather' });
      });
    });
  }

  it('stores the tool call with the reply and the tool result as a tool message, and bills the call like any reply', async () => {
    const billedBefore = billedCompletionTokens(harness);
    const first = await streamedToolCall('gpt-4o-mini');
    expect(first.usage?.completion_tokens).toBeGreaterThan(0);
    expect(billedCompletionTokens(harness) - billedBefore).toBe(first.usage?.completion_tokens);
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: followUp(first.calls[0]!), tools: [weather] });
    const rows = storedRows(harness);
    const callRow = rows.find((row) => row.tool_calls !== null && JSON.parse(row.tool_calls)[0].id === first.calls[0]!.id);
    expect(callRow).toMatchObject({ role: 'assistant', status: 'complete' });
    expect(JSON.parse(callRow!.tool_calls!)).toEqual([first.calls[0]]);
    const resultRow = rows.find((row) => row.tool_call_id === first.calls[0]!.id);
    expect(resultRow).toMatchObject({ role: 'tool', content: toolResult });
  });

  it('passes json_schema output to an OpenAI model, and the reply is the JSON', async () => {
    const schema = { type: 'object', properties: { reply: { type: 'string' } }, required: ['reply'], additionalProperties: false };
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ reply: 'You said: Answer in JSON' });
    expect(harness.fake.requests.at(-1)!.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema, strict: true },
    });
  });

  it('asks a Claude model for json_schema output as one forced tool, and the reply is the JSON, streamed and not', async () => {
    const schema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'answer', schema } };
    const completion = await client.chat.completions.create({
      model: 'claude-3-5-sonnet-latest',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format,
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ text: 'Answer in JSON' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    const sent = harness.fake.requests.at(-1)!.body;
    expect(sent.tools).toEqual([{ name: 'answer', description: expect.any(String), input_schema: schema }]);
    expect(sent.tool_choice).toEqual({ type: 'tool', name: 'answer' });

    harness.fake.behaviour.tokenDelayMs = 5;
    const stream = await client.chat.completions.create({
      model: 'claude-3-5-sonnet-latest',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(text)).toEqual({ text: 'Answer in JSON' });
  });

  it('refuses JSON output together with tools for a Claude model, naming response_format, and sends nothing upstream', async () => {
    const error = await client.chat.completions
      .create({
        model: 'claude-3-5-sonnet-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        response_format: { type: 'json_object' },
        tools: [weather],
      })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('response_format');
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('refuses malformed tool use naming the field: a tool message without its call id, a tool_choice naming no tool, a bad image URL', async () => {
    const cases: [string, object][] = [
      [
        'messages[1].tool_call_id',
        {
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'tool', content: 'x' },
          ],
        },
      ],
      [
        'tool_choice',
        { messages: [{ role: 'user', content: 'Hi' }], tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } },
      ],
      ['tools', { messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'function', function: { name: 'has spaces' } }] }],
      ['messages[0].content', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }],
    ];
    for (const [param, body] of cases) {
      const error = await client.chat.completions.create({ model: 'gpt-4o-mini', ...body } as never).catch((thrown: unknown) => thrown);
      expect(error, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param, param).toMatch(
        new RegExp(`^${param.replace(/[[\]]/g, '\\$&')}`),
      );
    }
    expect(harness.fake.requests).toHaveLength(0);
  });
});

interface StoredRow {
  role: string;
  status: string;
  content: string;
  tool_calls: string | null;
  tool_call_id: string | null;
}

function storedRows(harness: UpstreamHarness): StoredRow[] {
  const database = new Database(harness.server.sqlitePath!, { readonly: true });
  try {
    return database.prepare('select role, status, content, tool_calls, tool_call_id from messages order by id').all() as StoredRow[];
  } finally {
    database.close();
  }
}

function billedCompletionTokens(harness: UpstreamHarness): number {
  const database = new Database(harness.server.sqlitePath!, { readonly: true });
  try {
    return (database.prepare('select coalesce(sum(completion_tokens), 0) as total from users').get() as { total: number }).total;
  } finally {
    database.close();
  }
}

function storedReplies(harness: UpstreamHarness): StoredRow[] {
  return storedRows(harness).filter((row) => row.role === 'assistant' && row.status !== 'in_progress');
}
