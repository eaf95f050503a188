import { setTimeout } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, inChunks, silence, spokenPcm, spokenWebm, webm } from '../support/spoken-audio.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { VoiceTestClient } from './voice-client.js';

const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

/** Seed 004 over a real Socket.IO client, with OpenAI's Whisper, TTS and chat played by the loopback fake. */
describe.skipIf(!speechProgramsAvailable)('the voice assistant on the default Socket.IO namespace', () => {
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

  const requestsTo = (path: string) => fake.requests.filter((request) => request.path === path);

  it('answers a text-message with the echo, typing indicators and the reply spoken as base64 MP3', async () => {
    const client = await connect();
    client.socket.emit('text-message', 'What can you do?');
    const response = await client.waitFor('ai-response');
    await client.waitFor('ai-typing', 2);

    expect(client.log.map((entry) => entry.event)).toEqual(['ai-typing', 'message-received', 'ai-response', 'ai-typing']);
    const [received] = client.events('message-received');
    expect(received).toMatchObject({ text: 'What can you do?', source: 'text' });
    expect(received!.messageId).toEqual(expect.any(String));
    expect(client.events('ai-typing')).toEqual([{ isTyping: true }, { isTyping: false }]);
    expect(response.text).toBe('You said: What can you do?');
    expect(response.mimeType).toBe('audio/mpeg');
    expect(Buffer.from(response.audio!, 'base64')).toEqual(fake.behaviour.speech);
    const [speech] = requestsTo('/v1/audio/speech');
    expect(speech!.body).toMatchObject({ model: 'tts-1', voice: 'alloy', input: 'You said: What can you do?', response_format: 'mp3' });
    // The seed's system prompt and model reach the chat request.
    const [chat] = requestsTo('/v1/chat/completions');
    expect(chat!.body.model).toBe('gpt-4o-mini');
    expect(chat!.body.messages[0]).toEqual({ role: 'system', content: expect.stringContaining('helpful and friendly') });
  });

  it('transcribes a streamed WebM/Opus recording with Whisper and answers what was heard', async () => {
    fake.behaviour = { ...fake.behaviour, transcript: 'hello there' };
    const client = await connect();
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('speech-result')).toEqual({ text: 'hello there', isFinal: true });
    const response = await client.waitFor('ai-response');

    expect(client.events('message-received')).toEqual([expect.objectContaining({ text: 'hello there', source: 'voice' })]);
    expect(response.text).toBe('You said: hello there');
    const transcriptions = requestsTo('/v1/audio/transcriptions');
    expect(transcriptions).toHaveLength(1);
    const { model, file } = transcriptions[0]!.body;
    expect(model).toBe('whisper-1');
    const wav: Buffer = file.bytes;
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16_000);
    // "hello there" is about a second of speech; the utterance holds it and not the whole trailing silence.
    const seconds = (wav.length - 44) / 32_000;
    expect(seconds).toBeGreaterThan(0.5);
    expect(seconds).toBeLessThan(2.5);
  });

  it('cuts a continuous recording into utterances at each silence, without stop-recording', async () => {
    const client = await connect();
    const twoUtterances = await webm(Buffer.concat([await spokenPcm('hello there', 1200), await spokenPcm('what time is it', 1200)]));
    await client.record(inChunks(twoUtterances), { stop: false });
    await client.waitFor('speech-result', 2);
    expect(requestsTo('/v1/audio/transcriptions')).toHaveLength(2);
    client.socket.emit('stop-recording');
    await client.waitFor('ai-response');
  });

  it('drops the reply in progress on interrupt (barge-in): upstream aborted, no ai-response, typing off', async () => {
    fake.behaviour = { ...fake.behaviour, reply: Array.from({ length: 200 }, (_, index) => `word${index}`).join(' '), tokenDelayMs: 10 };
    const client = await connect();
    client.socket.emit('text-message', 'Tell me a long story');
    await client.waitFor('message-received');
    await setTimeout(100);
    client.socket.emit('interrupt');
    await fake.waitForAborts(1);
    await client.waitFor('ai-typing', 2);
    await setTimeout(200);
    expect(client.events('ai-response')).toEqual([]);
    expect(client.events('ai-typing')).toEqual([{ isTyping: true }, { isTyping: false }]);
    expect(requestsTo('/v1/audio/speech')).toEqual([]);
  });

  it('answers only the newest message when a second one arrives while the first is being answered', async () => {
    fake.behaviour = { ...fake.behaviour, tokenDelayMs: 20 };
    const client = await connect();
    client.socket.emit('text-message', 'first question with several words in it');
    await client.waitFor('message-received');
    client.socket.emit('text-message', { text: 'second' });
    const response = await client.waitFor('ai-response');
    await fake.waitForAborts(1);
    await setTimeout(200);
    expect(response.text).toBe('You said: second');
    expect(client.events('ai-response')).toHaveLength(1);
    expect(client.events('ai-typing').at(-1)).toEqual({ isTyping: false });
  });

  it('names what is wrong with a bad text-message or non-binary audio, and goes on working', async () => {
    const client = await connect();
    client.socket.emit('text-message', { words: 'hi' });
    client.socket.emit('text-message', '   ');
    client.socket.emit('audio-stream', 'not audio' as unknown as Buffer);
    await client.waitFor('error', 3);
    expect(client.events('error')).toEqual([
      expect.objectContaining({ code: 'invalid_request', field: 'text' }),
      expect.objectContaining({ code: 'invalid_request', field: 'text' }),
      expect.objectContaining({ code: 'invalid_request', field: 'audio' }),
    ]);
    client.socket.emit('text-message', 'still there?');
    expect((await client.waitFor('ai-response')).text).toBe('You said: still there?');
  });

  it('refuses undecodable audio once per recording with invalid_request, and takes the next recording', async () => {
    const client = await connect();
    await client.record(inChunks(Buffer.from('this is certainly not a recording; '.repeat(200))));
    await client.waitFor('error');
    await setTimeout(300);
    expect(client.events('error')).toEqual([expect.objectContaining({ code: 'invalid_request', field: 'audio' })]);
    expect(client.events('error')[0]!.message).toMatch(/could not be decoded/);
    expect(requestsTo('/v1/audio/transcriptions')).toEqual([]);

    await client.record(inChunks(helloThere));
    await client.waitFor('ai-response');
  });

  it('sends an empty speech-result for a recording without speech, and nothing upstream', async () => {
    const client = await connect();
    await client.record(inChunks(await webm(silence(1.5))));
    expect(await client.waitFor('speech-result')).toEqual({ text: '', isFinal: true });
    expect(requestsTo('/v1/audio/transcriptions')).toEqual([]);
  });

  it('reports a failed transcription with the provider error code and answers nothing', async () => {
    const client = await connect();
    fake.failNext({ status: 500 });
    await client.record(inChunks(helloThere));
    expect(await client.waitFor('error')).toMatchObject({ code: 'provider_error' });
    await setTimeout(200);
    expect(client.events('message-received')).toEqual([]);
    expect(requestsTo('/v1/chat/completions')).toEqual([]);
  });

  it("keeps a signed-in user's voice conversation under that user, and refuses a bad token on first use", async () => {
    const signedIn = await connect({ token: await signToken('vera') });
    signedIn.socket.emit('text-message', 'remember me');
    const response = await signedIn.waitFor('ai-response');
    const stored = await server.app.store.listConversations('vera', 'voice', { page: 1, limit: 10 });
    expect(stored.items.map((conversation) => conversation.surface)).toEqual(['voice']);
    void response;

    const forged = await connect({ token: 'not-a-jwt' });
    forged.socket.emit('text-message', 'hello');
    expect(await forged.waitFor('error')).toMatchObject({ code: 'unauthorized' });
  });
});

/** The same protocol with no network at all: pocketsphinx hears, the demo model answers, espeak-ng speaks. */
describe.skipIf(!speechProgramsAvailable)('the voice assistant offline', () => {
  let server: TestServer;
  let client: VoiceTestClient | undefined;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('hears speech with pocketsphinx and speaks the reply with espeak-ng as a real MP3', async () => {
    client = await VoiceTestClient.connect(server.url);
    // pocketsphinx's general model hears espeak-ng's "how are you" word for word (test/voice/speech-engines.test.ts).
    await client.record(inChunks(await spokenWebm('how are you', 1000)));
    const heard = await client.waitFor('speech-result', 1, 20_000);
    expect(heard.text).toMatch(/\bhow\b.*\byou\b/);
    const response = await client.waitFor('ai-response', 1, 20_000);

    expect(client.events('message-received')).toEqual([expect.objectContaining({ text: heard.text, source: 'voice' })]);
    expect(response.text).toContain(heard.text);
    expect(response.mimeType).toBe('audio/mpeg');
    const mp3 = Buffer.from(response.audio!, 'base64');
    expect(mp3.toString('latin1', 0, 3) === 'ID3' || (mp3[0] === 0xff && (mp3[1]! & 0xe0) === 0xe0)).toBe(true);
    expect(mp3.length).toBeGreaterThan(5_000);
  });
});

describe.skipIf(!speechProgramsAvailable)('the voice assistant under rate limits', () => {
  let harness: UpstreamHarness;
  let fake: FakeUpstream;
  let server: TestServer;
  let client: VoiceTestClient | undefined;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, RATE_LIMIT_DEFAULT_ANONYMOUS: '2/60' });
    ({ fake, server } = harness);
  });
  afterAll(async () => {
    client?.close();
    await harness?.close();
  });

  it("counts typed messages and utterances against a guest's budget, refusing an utterance before it is transcribed", async () => {
    client = await VoiceTestClient.connect(server.url);
    client.socket.emit('text-message', 'one');
    await client.waitFor('ai-response', 1);
    client.socket.emit('text-message', 'two');
    await client.waitFor('ai-response', 2);

    await client.record(inChunks(await spokenWebm('hello there', 1000)));
    const refused = await client.waitFor('error');
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
    expect(fake.requests.filter((request) => request.path === '/v1/audio/transcriptions')).toEqual([]);
  });
});

/** The server-wide limit, and the per-address one (every test client comes from 127.0.0.1). */
const recordingLimits = [
  { limit: 'VOICE_MAX_RECORDINGS', refusal: /as many recordings as it can/ },
  { limit: 'VOICE_MAX_RECORDINGS_PER_ADDRESS', refusal: /This address already has 1 recordings open/ },
];

describe.skipIf(!speechProgramsAvailable).each(recordingLimits)('the voice assistant at $limit', ({ limit, refusal }) => {
  let harness: UpstreamHarness;
  let server: TestServer;
  const clients: VoiceTestClient[] = [];

  beforeAll(async () => {
    harness = await startUpstreamHarness({ [limit]: '1', VOICE_RECORDING_IDLE_SECONDS: '1' });
    ({ server } = harness);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await harness?.close();
  });

  it('refuses a recording past the limit with service_unavailable, and takes it once one has ended', async () => {
    const speech = inChunks(await spokenWebm('hello there', 1000));
    const [talking, waiting] = await Promise.all([VoiceTestClient.connect(server.url), VoiceTestClient.connect(server.url)]);
    clients.push(talking, waiting);
    await talking.record(speech.slice(0, 2), { stop: false });
    await setTimeout(200);

    await waiting.record(speech);
    expect(await waiting.waitFor('error')).toMatchObject({
      code: 'service_unavailable',
      retryAfter: 1,
      message: expect.stringMatching(refusal),
    });

    talking.socket.emit('stop-recording');
    await talking.waitFor('speech-result');
    await waiting.record(speech);
    expect((await waiting.waitFor('ai-response')).text).toBe('You said: hello from the fake whisper');
  });

  it('stops a recording whose audio stopped coming, which frees its decoder for another client', async () => {
    const speech = inChunks(await spokenWebm('hello there', 1000));
    const [silent, next] = await Promise.all([VoiceTestClient.connect(server.url), VoiceTestClient.connect(server.url)]);
    clients.push(silent, next);
    await silent.record(speech.slice(0, 2), { stop: false });
    // No stop-recording: the idle timeout (1 s here) ends the recording as if it had come.
    await silent.waitFor('speech-result', 1, 5_000);

    await next.record(speech);
    expect((await next.waitFor('ai-response')).text).toBe('You said: hello from the fake whisper');
    expect(next.events('error')).toEqual([]);
  });
});
