import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { ChatEvent } from '../../src/chat/chat-events.js';
import { ChatEngine, type TurnOptions } from '../../src/chat/chat-engine.js';
import { TurnGuard } from '../../src/chat/turn-guard.js';
import { FlexibleRateLimiter } from '../../src/limits/rate-limiter.js';
import { ProviderRegistry } from '../../src/providers/provider-registry.js';
import type { ChatStore } from '../../src/store/chat-store.js';
import { openChatStore } from '../../src/store/open-chat-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { temporarySqliteFile, type TemporarySqliteFile } from '../support/services.js';

const alice = { userId: 'alice', kind: 'user' } as const;

describe('the chat engine', () => {
  let fake: FakeUpstream;
  let file: TemporarySqliteFile;
  let store: ChatStore;
  let engine: ChatEngine;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    file = await temporarySqliteFile();
    store = await openChatStore(`file:${file.path}`);
    await store.migrate();
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl });
    engine = new ChatEngine({
      store,
      providers: await ProviderRegistry.open(config),
      guard: new TurnGuard(config.limits, store, undefined, new FlexibleRateLimiter(config.rateLimits, undefined)),
      defaultContextWindow: 400,
      replyCheckpointMs: 1_000,
      logger: pino({ level: 'silent' }),
    });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await store.close();
    await file.remove();
    await fake.close();
  });

  async function turn(clientKey: string, content: string, options: Partial<TurnOptions> = {}): Promise<ChatEvent[]> {
    const events: ChatEvent[] = [];
    const stream = engine.runTurn({
      identity: alice,
      target: { kind: 'keyed', clientKey, create: { surface: 'assistant' } },
      content,
      options: { model: 'gpt-4o', historyLimit: 100, ...options },
      signal: new AbortController().signal,
    });
    for await (const event of stream) events.push(event);
    return events;
  }

  function sentMessages(): { role: string; content: string }[] {
    return (fake.requests.at(-1)?.body as { messages: { role: string; content: string }[] }).messages;
  }

  it('yields turn-start, message-start, deltas, usage and turn-finish in that order', async () => {
    const events = await turn('order', 'hello');
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('turn-start');
    expect(types[1]).toBe('message-start');
    expect(types.slice(2, -2).every((type) => type === 'text-delta')).toBe(true);
    expect(types.slice(-2)).toEqual(['usage', 'turn-finish']);
    const finish = events.at(-1) as Extract<ChatEvent, { type: 'turn-finish' }>;
    const start = events[1] as Extract<ChatEvent, { type: 'message-start' }>;
    expect(finish.message.id).toBe(start.messageId);
    expect(finish.message.content).toBe('You said: hello');
  });

  it('sends the stored history, oldest first, with the system prompt first', async () => {
    await turn('history', 'first');
    await turn('history', 'second', { systemPrompt: 'Be kind.' });
    expect(sentMessages()).toEqual([
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'You said: first' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('sends at most historyLimit earlier messages', async () => {
    await turn('limit', 'one');
    await turn('limit', 'two');
    await turn('limit', 'three', { historyLimit: 2 });
    expect(sentMessages().map((message) => message.content)).toEqual(['two', 'You said: two', 'three']);
  });

  it("trims the oldest history to the model's context window minus max tokens, always keeping the system prompt", async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(20);
    // 'local-model' is unknown, so its window is the engine's default of 400 tokens.
    await turn('trim', `A ${long}`, { model: 'local-model' });
    await turn('trim', `B ${long}`, { model: 'local-model' });
    await turn('trim', 'C', { model: 'local-model', maxTokens: 100, systemPrompt: 'System stays.' });
    const sent = sentMessages();
    expect(sent[0]).toEqual({ role: 'system', content: 'System stays.' });
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'C' });
    expect(sent.some((message) => message.content.startsWith('A '))).toBe(false);
    // What was left out arrives summarized (the fake's summary repeats its request), right after the system prompt;
    // in a window this small the summary request itself has room for B's exchange only.
    expect(sent[1]).toMatchObject({ role: 'system', content: expect.stringMatching(/^Summary of the earlier conversation: You said: /) });
    expect(sent[1]!.content).toContain('User: B lorem ipsum');
  });

  it('refuses a message larger than the context window before storing anything', async () => {
    const events = await turn('too-long', 'word '.repeat(500), { model: 'local-model' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'turn-error', error: { code: 'invalid_request' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('leaves failed replies out of later history', async () => {
    fake.behaviour.dropAfterTokens = 1;
    const failed = await turn('failed', 'doomed');
    expect(failed.at(-1)).toMatchObject({ type: 'turn-error', message: { status: 'failed', content: 'You' } });
    fake.behaviour.dropAfterTokens = undefined;
    await turn('failed', 'again');
    expect(sentMessages().map((message) => message.content)).toEqual(['doomed', 'again']);
  });

  it('counts tokens with the tokenizer when the provider reports no usage', async () => {
    fake.behaviour.usage = false;
    const events = await turn('no-usage', 'count me');
    const finish = events.at(-1) as Extract<ChatEvent, { type: 'turn-finish' }>;
    expect(finish.message.completionTokens).toBeGreaterThan(0);
    expect(finish.message.promptTokens).toBeGreaterThan(0);
  });
});
