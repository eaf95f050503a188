import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { parseSamples, total, type Sample } from '../support/prometheus-samples.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, inChunks, spokenWebm } from '../support/spoken-audio.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { VoiceTestClient } from '../transports/voice-client.js';

const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

async function scrape(server: TestServer): Promise<Sample[]> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  return parseSamples(await response.text());
}

/** How much each series moved between two scrapes. */
function growth(before: Sample[], after: Sample[]) {
  return (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
}

const utterances = 'parley_voice_utterances_total';
const transcriptions = 'parley_speech_to_text_duration_seconds_count';
const syntheses = 'parley_text_to_speech_duration_seconds_count';

/**
 * Seed 004's series at GET /metrics after real voice traffic: espeak-ng's
 * speech streamed as WebM/Opus over a real Socket.IO client, OpenAI's
 * Whisper, chat and TTS played by the loopback fake.
 */
describe.skipIf(!speechProgramsAvailable)('voice metrics with the OpenAI speech engines', () => {
  let harness: UpstreamHarness;
  let fake: FakeUpstream;
  let server: TestServer;
  const clients: VoiceTestClient[] = [];
  let helloThere: Buffer;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, PROVIDER_MAX_RETRIES: '0' });
    ({ fake, server } = harness);
    helloThere = await spokenWebm('hello there', 1000);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    fake.reset();
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function connect(auth: Record<string, unknown> = {}): Promise<VoiceTestClient> {
    const client = await VoiceTestClient.connect(server.url, auth);
    clients.push(client);
    return client;
  }

  it('exports every utterance outcome at 0 before any voice traffic', async () => {
    const samples = await scrape(server);
    for (const outcome of ['answered', 'empty', 'refused', 'failed', 'interrupted']) {
      expect(samples.find((sample) => sample.name === utterances && sample.labels.outcome === outcome)?.value).toBe(0);
    }
  });

  it('counts each answered utterance once and times its transcription and its speech under the openai engine', async () => {
    fake.behaviour = { ...fake.behaviour, transcript: 'hello there' };
    const before = await scrape(server);
    const client = await connect();
    const exchanges = 3;
    for (let exchange = 1; exchange <= exchanges; exchange++) {
      await client.record(inChunks(helloThere));
      await client.waitFor('ai-response', exchange);
    }
    expect(client.events('ai-response').every((response) => response.audio !== null)).toBe(true);

    const after = await scrape(server);
    const grew = growth(before, after);
    expect(grew(utterances, { outcome: 'answered' })).toBe(exchanges);
    expect(grew(utterances)).toBe(exchanges);
    expect(grew(transcriptions, { engine: 'openai', status: 'ok' })).toBe(exchanges);
    expect(grew(transcriptions)).toBe(exchanges);
    expect(grew(syntheses, { engine: 'openai', status: 'ok' })).toBe(exchanges);
    expect(grew(syntheses)).toBe(exchanges);
    // Real durations (a Whisper upload takes some milliseconds), each inside the 30 s top bucket.
    expect(grew('parley_speech_to_text_duration_seconds_sum')).toBeGreaterThan(0);
    expect(grew('parley_speech_to_text_duration_seconds_bucket', { engine: 'openai', status: 'ok', le: '30' })).toBe(exchanges);
    for (const sample of after) expect(Object.keys(sample.labels)).not.toContain('user');
  });

  it('counts an utterance heard as no words as empty, and speaks nothing for it', async () => {
    fake.behaviour = { ...fake.behaviour, transcript: '' };
    const before = await scrape(server);
    const client = await connect();
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('speech-result')).toEqual({ text: '', isFinal: true });

    const grew = growth(before, await scrape(server));
    expect(grew(utterances, { outcome: 'empty' })).toBe(1);
    expect(grew(utterances)).toBe(1);
    expect(grew(transcriptions, { engine: 'openai', status: 'ok' })).toBe(1);
    expect(grew(syntheses)).toBe(0);
  });

  it('counts a failed transcription as a failed utterance and a failed engine call', async () => {
    const before = await scrape(server);
    const client = await connect();
    fake.failNext({ status: 500 });
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('error')).toMatchObject({ code: 'provider_error' });

    const grew = growth(before, await scrape(server));
    expect(grew(utterances, { outcome: 'failed' })).toBe(1);
    expect(grew(utterances)).toBe(1);
    expect(grew(transcriptions, { engine: 'openai', status: 'failed' })).toBe(1);
    expect(grew(transcriptions)).toBe(1);
    expect(grew(syntheses)).toBe(0);
  });

  it('counts an utterance whose reply was dropped by barge-in as interrupted, with no speech synthesised', async () => {
    fake.behaviour = { ...fake.behaviour, reply: Array.from({ length: 200 }, (_, index) => `word${index}`).join(' '), tokenDelayMs: 10 };
    const before = await scrape(server);
    const client = await connect();
    await client.record(inChunks(helloThere));
    await client.waitFor('message-received');
    client.socket.emit('interrupt');
    await fake.waitForAborts(1);
    await client.waitFor('ai-typing', 2);

    await expect.poll(async () => growth(before, await scrape(server))(utterances, { outcome: 'interrupted' })).toBe(1);
    const grew = growth(before, await scrape(server));
    expect(grew(utterances)).toBe(1);
    expect(grew(transcriptions, { status: 'ok' })).toBe(1);
    expect(grew(syntheses)).toBe(0);
    expect(client.events('ai-response')).toEqual([]);
  });

  it('counts an utterance refused for a bad token as refused, before the recogniser is paid', async () => {
    const before = await scrape(server);
    const client = await connect({ token: 'not-a-jwt' });
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('error')).toMatchObject({ code: 'unauthorized' });

    const grew = growth(before, await scrape(server));
    expect(grew(utterances, { outcome: 'refused' })).toBe(1);
    expect(grew(utterances)).toBe(1);
    expect(grew(transcriptions)).toBe(0);
    expect(fake.requests.filter((request) => request.path === '/v1/audio/transcriptions')).toEqual([]);
  });

  it('times the speech of a typed message, which is no utterance', async () => {
    const before = await scrape(server);
    const client = await connect();
    client.socket.emit('text-message', 'speak this');
    await client.waitFor('ai-response');

    const grew = growth(before, await scrape(server));
    expect(grew(syntheses, { engine: 'openai', status: 'ok' })).toBe(1);
    expect(grew(utterances)).toBe(0);
    expect(grew(transcriptions)).toBe(0);
  });
});

/** No network at all: pocketsphinx hears, the demo model answers, espeak-ng speaks. */
describe.skipIf(!speechProgramsAvailable)('voice metrics with the offline speech engines', () => {
  let server: TestServer;
  let client: VoiceTestClient | undefined;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('labels the durations with the pocketsphinx and espeak engines', async () => {
    const before = await scrape(server);
    client = await VoiceTestClient.connect(server.url);
    // pocketsphinx's general model hears espeak-ng's "how are you" word for word (test/voice/speech-engines.test.ts).
    await client.record(inChunks(await spokenWebm('how are you', 1000)));
    const response = await client.waitFor('ai-response', 1, 20_000);
    expect(response.audio).not.toBeNull();

    const grew = growth(before, await scrape(server));
    expect(grew(utterances, { outcome: 'answered' })).toBe(1);
    expect(grew(transcriptions, { engine: 'pocketsphinx', status: 'ok' })).toBe(1);
    expect(grew(transcriptions)).toBe(1);
    expect(grew(syntheses, { engine: 'espeak', status: 'ok' })).toBe(1);
    expect(grew(syntheses)).toBe(1);
    // A local engine takes real time: it starts a program and loads its model.
    expect(grew('parley_speech_to_text_duration_seconds_sum', { engine: 'pocketsphinx' })).toBeGreaterThan(0.01);
  });
});
