import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';

/**
 * OpenAI's sampling parameters through /v1/chat/completions, with the
 * official client: passed on in each provider's own names, refused naming
 * the field where the provider (or Parley) cannot honour them, never dropped.
 */
describe('/v1/chat/completions parameters', () => {
  let harness: UpstreamHarness;
  let client: OpenAI;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ PROVIDER_MAX_RETRIES: '0' });
    client = new OpenAI({ apiKey: 'ignored-in-local-mode', baseURL: `${harness.server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => harness.fake.reset());
  afterAll(() => harness.close());

  const messages = [{ role: 'user' as const, content: 'Hello' }];
  const sampling = {
    stop: ['END', 'STOP'],
    top_p: 0.5,
    seed: 7,
    presence_penalty: 0.25,
    frequency_penalty: -0.5,
    logit_bias: { '50256': -100 },
    user: 'end-user-1',
  };

  it('passes stop, top_p, seed, penalties, logit_bias and user to an OpenAI model as OpenAI names them', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, ...sampling });
    expect(harness.fake.requests.at(-1)?.body).toMatchObject(sampling);
    // A single stop string is one sequence.
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stop: 'END', stream: true }).then(async (stream) => {
      for await (const _ of stream);
    });
    expect(harness.fake.requests.at(-1)?.body).toMatchObject({ stop: ['END'] });
  });

  it('passes stop and top_p to a Claude model as stop_sequences and top_p, the user as metadata.user_id', async () => {
    await client.chat.completions.create({ model: 'claude-3-5-sonnet-latest', messages, stop: ['END'], top_p: 0.5, user: 'end-user-1' });
    const sent = harness.fake.requests.at(-1);
    expect(sent?.path).toContain('/messages');
    expect(sent?.body).toMatchObject({ stop_sequences: ['END'], top_p: 0.5, metadata: { user_id: 'end-user-1' } });
    expect(sent?.body).not.toHaveProperty('stop');
  });

  it('refuses, naming the field, what a Claude model cannot do, and sends nothing upstream', async () => {
    for (const [field, value] of [
      ['seed', 7],
      ['presence_penalty', 0.5],
      ['frequency_penalty', 0.5],
      ['logit_bias', { '50256': -100 }],
      ['logprobs', true],
    ] as const) {
      const error = await client.chat.completions
        .create({ model: 'claude-3-5-sonnet-latest', messages, [field]: value })
        .catch((thrown: unknown) => thrown);
      expect(error, field).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param, field).toBe(field);
    }
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('refuses legacy functions, tool_choice without tools, top_logprobs without logprobs, audio and more than one choice rather than dropping them', async () => {
    const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };
    for (const [field, extra] of [
      ['functions', { functions: [tool.function] }],
      ['tool_choice', { tool_choice: 'required' }],
      ['top_logprobs', { top_logprobs: 2 }],
      ['audio', { audio: { voice: 'alloy', format: 'mp3' } }],
      ['n', { n: 2 }],
    ] as const) {
      const error = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, ...extra } as never)
        .catch((thrown: unknown) => thrown);
      expect(error, field).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param, field).toBe(field);
    }
    // Their "off" values are fine.
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [],
      tool_choice: 'none',
      response_format: { type: 'text' },
      logprobs: false,
      n: 1,
    });
    expect(harness.fake.requests).toHaveLength(1);
  });

  it("relays an OpenAI model's log probabilities, streamed and not, as OpenAI sends them", async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, logprobs: true, top_logprobs: 2 });
    expect(harness.fake.requests.at(-1)?.body).toMatchObject({ logprobs: true, top_logprobs: 2 });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content.map((entry) => entry.token).join('')).toBe(completion.choices[0]?.message.content);
    expect(content[0]?.top_logprobs).toHaveLength(2);

    harness.fake.behaviour.tokenDelayMs = 5;
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, logprobs: true, stream: true });
    let text = '';
    const tokens: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const entry of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(entry.token);
    }
    expect(text).toBe('You said: Hello');
    expect(tokens.join('')).toBe(text);
  });
});
