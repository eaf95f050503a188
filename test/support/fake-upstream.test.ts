import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeEmbedding, FakeUpstream, tokenize } from './fake-upstream.js';

let fake: FakeUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await FakeUpstream.start();
  openai = new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });
});

afterEach(() => fake.reset());

afterAll(() => fake.close());

/** A current model name: the SDK warns on stderr about deprecated ones. */
const CLAUDE = 'claude-sonnet-4-6';
const hello = [{ role: 'user' as const, content: 'Hello there' }];

/** Reads an SSE response body as its list of raw events. */
async function rawEvents(response: Response): Promise<string[]> {
  return (await response.text()).split('\n\n').filter(Boolean);
}

describe('tokenize', () => {
  it('splits text into words carrying their leading whitespace', () => {
    expect(tokenize('I can help')).toEqual(['I', ' can', ' help']);
  });

  it('loses nothing, so joined tokens give the text back', () => {
    const text = '  Two  spaces\nand a newline \n';
    expect(tokenize(text).join('')).toBe(text);
  });
});

describe('the fake OpenAI chat completions endpoint', () => {
  it('streams deltas that join to the reply, with usage when include_usage is set', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(deltas.join('')).toBe('You said: Hello there');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
  });

  it('writes the exact OpenAI event sequence on the wire', async () => {
    fake.behaviour.reply = 'Hi you';
    const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: hello, stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await rawEvents(response);
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.replace(/^data: /, '')));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Hi' },
      { content: ' you' },
      {},
      null,
    ]);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-4o', usage: null });
    expect(chunks[0].choices[0]).toEqual({ index: 0, delta: expect.any(Object), logprobs: null, finish_reason: null });
    expect(chunks[4]).toMatchObject({ choices: [], usage: { completion_tokens: 2 } });
    expect(events.at(-1)).toBe('data: [DONE]');
  });

  it('answers a non-streaming request with a complete chat.completion', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: hello });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'You said: Hello there', refusal: null }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o' } });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: hello, max_tokens: 2 });
    expect(completion.choices[0]).toMatchObject({ message: { content: 'You said:' }, finish_reason: 'length' });
  });

  it('rejects the key sk-bad with the client’s AuthenticationError', async () => {
    const client = new OpenAI({ apiKey: 'sk-bad', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('answers an unknown model with NotFoundError and model_not_found', async () => {
    const error = await openai.chat.completions.create({ model: 'missing-model', messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers a body without messages with a 400 naming the parameter', async () => {
    const error = await openai.chat.completions.create({ model: 'gpt-4o' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'messages' });
  });

  it('serves queued faults in order, with their headers visible on the client’s error', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '2' } });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages: hello })).resolves.toBeDefined();
  });

  it('records the client aborting a stream and stops streaming to it', async () => {
    fake.behaviour.reply = 'one two three four five six seven eight nine ten';
    fake.behaviour.tokenDelayMs = 20;
    const controller = new AbortController();
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: hello, stream: true }, { signal: controller.signal });
    const deltas: string[] = [];
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta.content ?? '');
      if (deltas.length === 3) controller.abort();
    }
    await fake.waitForAborts();
    expect(fake.abortedCount).toBe(1);
    expect(fake.requests[0]?.aborted).toBe(true);
    expect(fake.openRequests).toBe(0);
    expect(deltas.join('')).toBe('one two');
  });

  it('makes the client’s stream fail after dropAfterTokens tokens', async () => {
    fake.behaviour.reply = 'one two three four five';
    fake.behaviour.dropAfterTokens = 3;
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: hello, stream: true });
    const deltas: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow();
    expect(deltas.join('')).toBe('one two three');
    expect(fake.abortedCount).toBe(0);
  });
});

describe('the other fake OpenAI endpoints', () => {
  it('returns deterministic 8-float embeddings through the client’s base64 decoding', async () => {
    const response = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(fake.requests[0]?.body.encoding_format).toBe('base64');
    expect(response.data.map((item) => item.embedding)).toEqual([fakeEmbedding('alpha'), fakeEmbedding('beta')]);
    expect(fakeEmbedding('alpha')).toHaveLength(8);
    expect(fakeEmbedding('alpha')).not.toEqual(fakeEmbedding('beta'));
  });

  it('returns the same embeddings as plain floats when asked for them', async () => {
    const response = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float' });
    expect(response.data[0]?.embedding).toEqual(fakeEmbedding('alpha'));
    expect(response.usage).toEqual({ prompt_tokens: 1, total_tokens: 1 });
  });

  it('lists models', async () => {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'text-embedding-3-small']);
  });

  it('flags moderation input containing FLAGME and passes the rest', async () => {
    const response = await openai.moderations.create({ input: ['this is fine', 'please FLAGME now'] });
    expect(response.results.map((result) => result.flagged)).toEqual([false, true]);
    expect(response.results[1]?.categories.harassment).toBe(true);
  });

  it('answers unknown paths with 404 and still records them', async () => {
    const response = await fetch(`${fake.url}/v1/nowhere`);
    expect(response.status).toBe(404);
    expect(fake.requests).toMatchObject([{ method: 'GET', path: '/v1/nowhere' }]);
  });
});

describe('the fake Anthropic messages endpoint', () => {
  it('streams the reply through messages.stream with usage', async () => {
    const stream = anthropic.messages.stream({ model: CLAUDE, max_tokens: 1024, messages: hello });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    expect(texts.join('')).toBe('You said: Hello there');
    expect(message).toMatchObject({ stop_reason: 'end_turn', usage: { input_tokens: 2, output_tokens: 4 } });
    expect(fake.requests[0]?.headers['anthropic-version']).toBeDefined();
  });

  it('writes the exact Anthropic event sequence on the wire', async () => {
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: CLAUDE, max_tokens: 2, messages: hello, stream: true }),
    });
    const events = (await rawEvents(response)).map((event) => {
      const [, type, data] = /^event: (\w+)\ndata: (.*)$/.exec(event) ?? [];
      expect(JSON.parse(data!).type).toBe(type);
      return JSON.parse(data!);
    });
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].message).toMatchObject({ content: [], stop_reason: null, usage: { input_tokens: 2, output_tokens: 1 } });
    expect(events[3]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'You' } });
    expect(events[6]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 2 },
    });
  });

  it('answers a non-streaming request, reading the user text from content blocks', async () => {
    const message = await anthropic.messages.create({
      model: CLAUDE,
      max_tokens: 1024,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'From blocks' }] }],
    });
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'You said: From blocks' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    expect(message.id).toMatch(/^msg_/);
  });

  it('rejects the key sk-ant-bad with the client’s AuthenticationError', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-bad', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });
    const error = await client.messages.create({ model: CLAUDE, max_tokens: 10, messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error).toMatchObject({ status: 401, error: { type: 'error', error: { type: 'authentication_error' } } });
  });

  it('answers faults with Anthropic’s own error bodies', async () => {
    fake.failNext({ status: 529 });
    const error = await anthropic.messages.create({ model: CLAUDE, max_tokens: 10, messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
  });

  it('answers an unknown model with not_found_error', async () => {
    const error = await anthropic.messages.create({ model: 'missing-claude', max_tokens: 10, messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error).toMatchObject({ error: { error: { type: 'not_found_error', message: 'model: missing-claude' } } });
  });
});
