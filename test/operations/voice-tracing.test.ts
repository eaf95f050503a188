import { setTimeout } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, inChunks, spokenWebm } from '../support/spoken-audio.js';
import type { TestServer } from '../support/test-server.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { VoiceTestClient } from '../transports/voice-client.js';

const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

const internal = 1;
const errorStatus = 2;

/**
 * Seed 004's traces sent to a real OTLP/HTTP endpoint (a receiver in the
 * test): each utterance a `voice_exchange` at the root of its own trace,
 * with `speech_to_text`, the chat turn and `text_to_speech` under it.
 */
describe.skipIf(!speechProgramsAvailable)('voice traces with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let receiver: OtlpReceiver;
  let harness: UpstreamHarness;
  let fake: FakeUpstream;
  let server: TestServer;
  const clients: VoiceTestClient[] = [];
  let helloThere: Buffer;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    harness = await startUpstreamHarness({ PROVIDER_MAX_RETRIES: '0', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    ({ fake, server } = harness);
    helloThere = await spokenWebm('hello there', 1000);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    fake.reset();
  });
  afterAll(async () => {
    await harness?.close();
    await receiver?.close();
  });

  async function connect(): Promise<VoiceTestClient> {
    const client = await VoiceTestClient.connect(server.url);
    clients.push(client);
    return client;
  }

  /** The next voice_exchange span that ends after `seen`, once the batch holding it arrived. */
  async function nextExchange(seen: Set<string>): Promise<ReceivedSpan> {
    const fresh = () => receiver.spans.find((span) => span.name === 'voice_exchange' && !seen.has(span.spanId));
    await expect.poll(fresh, { timeout: 5_000 }).toBeDefined();
    return fresh()!;
  }
  const exchangesSoFar = () => new Set(receiver.spans.filter((span) => span.name === 'voice_exchange').map((span) => span.spanId));
  const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((span) => span.parentSpanId === parent.spanId);

  it('puts speech_to_text, the chat turn and text_to_speech under one voice_exchange per utterance', async () => {
    fake.behaviour = { ...fake.behaviour, transcript: 'hello there' };
    const seen = exchangesSoFar();
    const client = await connect();
    await client.record(inChunks(helloThere));
    const response = await client.waitFor('ai-response');
    expect(response.text).toBe('You said: hello there');

    const exchange = await nextExchange(seen);
    expect(exchange).toMatchObject({ parentSpanId: '', kind: internal, statusCode: 0 });
    expect(exchange.attributes).toMatchObject({ 'parley.voice.source': 'voice', 'parley.voice.outcome': 'answered' });
    const utteranceBytes = exchange.attributes['parley.voice.audio_bytes'] as number;
    // "hello there" is about a second of 16 kHz 16-bit speech.
    expect(utteranceBytes).toBeGreaterThan(16_000);

    // The turn's own children (store writes, provider request) are exported with it; wait for the whole tree.
    await expect.poll(() => childrenOf(exchange).length, { timeout: 5_000 }).toBe(3);
    const children = childrenOf(exchange);
    expect(children.map((span) => span.name).sort()).toEqual(['chat gpt-4o-mini', 'speech_to_text', 'text_to_speech']);
    for (const child of children) expect(child.traceId).toBe(exchange.traceId);

    const speechToText = children.find((span) => span.name === 'speech_to_text')!;
    expect(speechToText.attributes).toEqual({
      'parley.voice.engine': 'openai',
      'parley.voice.audio_bytes': utteranceBytes,
      'parley.voice.characters': 'hello there'.length,
      'parley.voice.status': 'ok',
    });
    const turn = children.find((span) => span.name === 'chat gpt-4o-mini')!;
    expect(turn.attributes).toMatchObject({ 'parley.surface': 'voice', 'parley.turn.status': 'complete', 'gen_ai.operation.name': 'chat' });
    await expect
      .poll(
        () =>
          childrenOf(turn)
            .map((span) => span.name)
            .sort(),
        { timeout: 5_000 },
      )
      .toEqual(['chat gpt-4o-mini', 'parley.store.begin_turn', 'parley.store.finish_turn']);
    const textToSpeech = children.find((span) => span.name === 'text_to_speech')!;
    expect(textToSpeech.attributes).toEqual({
      'parley.voice.engine': 'openai',
      'parley.voice.characters': response.text.length,
      'parley.voice.audio_bytes': fake.behaviour.speech.length,
      'parley.voice.status': 'ok',
    });
  });

  it('records a failed transcription on speech_to_text and on the exchange, with its error code, and no turn', async () => {
    const seen = exchangesSoFar();
    const client = await connect();
    fake.failNext({ status: 500 });
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('error')).toMatchObject({ code: 'provider_error' });

    const exchange = await nextExchange(seen);
    expect(exchange.statusCode).toBe(errorStatus);
    expect(exchange.attributes).toMatchObject({ 'parley.voice.outcome': 'failed', 'error.type': 'provider_error' });
    await expect.poll(() => childrenOf(exchange).length, { timeout: 5_000 }).toBe(1);
    const [speechToText] = childrenOf(exchange);
    expect(speechToText).toMatchObject({ name: 'speech_to_text', statusCode: errorStatus });
    expect(speechToText!.attributes).toMatchObject({ 'error.type': 'provider_error', 'parley.voice.status': 'failed' });
    expect(speechToText!.attributes).not.toHaveProperty('parley.voice.characters');
  });

  it('traces a typed message as a text exchange whose failed speech is an error of text_to_speech only', async () => {
    // The reply streams slowly, so the fault set once the chat request arrived falls on the speech request after it.
    fake.behaviour = { ...fake.behaviour, firstTokenDelayMs: 300 };
    const seen = exchangesSoFar();
    const client = await connect();
    client.socket.emit('text-message', 'say it');
    await expect.poll(() => fake.requests.some((request) => request.path === '/v1/chat/completions')).toBe(true);
    await setTimeout(50);
    fake.failNext({ status: 500 });
    const response = await client.waitFor('ai-response');
    expect(response.audio).toBeNull();

    const exchange = await nextExchange(seen);
    // The text was still sent: the exchange was answered.
    expect(exchange).toMatchObject({ parentSpanId: '', statusCode: 0 });
    expect(exchange.attributes).toEqual({ 'parley.voice.source': 'text', 'parley.voice.outcome': 'answered' });
    await expect
      .poll(
        () =>
          childrenOf(exchange)
            .map((span) => span.name)
            .sort(),
        { timeout: 5_000 },
      )
      .toEqual(['chat gpt-4o-mini', 'text_to_speech']);
    const textToSpeech = childrenOf(exchange).find((span) => span.name === 'text_to_speech')!;
    expect(textToSpeech.statusCode).toBe(errorStatus);
    expect(textToSpeech.attributes).toEqual({
      'parley.voice.engine': 'openai',
      'parley.voice.characters': 'You said: say it'.length,
      'parley.voice.status': 'failed',
      'error.type': 'provider_error',
    });
  });
});
