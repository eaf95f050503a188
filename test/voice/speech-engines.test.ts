import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAIProviderConfig } from '../../src/config/config.js';
import { AppError } from '../../src/core/errors.js';
import { EspeakTextToSpeech } from '../../src/voice/espeak-text-to-speech.js';
import { OpenAISpeechToText, OpenAITextToSpeech } from '../../src/voice/openai-speech.js';
import { PocketsphinxSpeechToText, pocketsphinxTempPrefix } from '../../src/voice/pocketsphinx-speech-to-text.js';
import { runProgram } from '../../src/voice/run-program.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, spokenPcm } from '../support/spoken-audio.js';

const never = new AbortController().signal;

/** What a promise rejected with; fails the test if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as AppError,
  );
}

/** One second of a 440 Hz tone as 16 kHz s16le PCM: audio that is not silence. */
function tone(seconds = 1): Buffer {
  const samples = Math.round(seconds * 16_000);
  const pcm = Buffer.alloc(samples * 2);
  for (let index = 0; index < samples; index++)
    pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / 16_000)), index * 2);
  return pcm;
}

describe('the OpenAI speech engines against the fake OpenAI API', () => {
  let fake: FakeUpstream;
  let config: OpenAIProviderConfig;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    config = { apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, organization: undefined };
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  const whisper = () => new OpenAISpeechToText(config, { engine: 'openai', model: 'whisper-1' });
  const alloy = () => new OpenAITextToSpeech(config, { engine: 'openai', model: 'tts-1', voice: 'alloy' });

  it('uploads the PCM to whisper-1 as a 16 kHz mono WAV and answers the trimmed transcript', async () => {
    fake.behaviour = { ...fake.behaviour, transcript: '  Hello there.\n' };
    const pcm = tone();

    expect(await whisper().transcribe(pcm, never)).toBe('Hello there.');

    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/audio/transcriptions' });
    expect(request!.headers.authorization).toBe('Bearer sk-test');
    const { model, file } = request!.body;
    expect(model).toBe('whisper-1');
    expect(file).toMatchObject({ name: 'speech.wav', type: 'audio/wav', size: 44 + pcm.length });
    const wav: Buffer = file.bytes;
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect({
      format: wav.readUInt16LE(20),
      channels: wav.readUInt16LE(22),
      rate: wav.readUInt32LE(24),
      bits: wav.readUInt16LE(34),
    }).toEqual({
      format: 1,
      channels: 1,
      rate: 16_000,
      bits: 16,
    });
    expect(wav.toString('ascii', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(pcm.length);
    expect(wav.subarray(44).equals(pcm)).toBe(true);
  });

  it('answers an empty transcript for a clip too short to hold a word, without calling OpenAI', async () => {
    expect(await whisper().transcribe(Buffer.alloc(0), never)).toBe('');
    expect(await whisper().transcribe(tone(0.05), never)).toBe('');
    expect(fake.requests).toEqual([]);
  });

  it('reports a rejected key as provider_auth_failed and an upstream 500 as provider_error', async () => {
    fake.failNext({ status: 401 }, { status: 500 });

    const rejectedKey = await rejectionOf(whisper().transcribe(tone(), never));
    expect(rejectedKey).toBeInstanceOf(AppError);
    expect(rejectedKey.code).toBe('provider_auth_failed');
    expect(rejectedKey.message).toContain('OPENAI_API_KEY');

    const serverError = await rejectionOf(whisper().transcribe(tone(), never));
    expect(serverError.code).toBe('provider_error');
    expect(serverError.retryable).toBe(true);
    // maxRetries 0: each failure is one request, not a retry loop.
    expect(fake.requests).toHaveLength(2);
  });

  it('stops the upload when the signal is aborted', async () => {
    fake.behaviour = { ...fake.behaviour, headersDelayMs: 5_000 };
    const controller = new AbortController();
    const transcription = whisper().transcribe(tone(), controller.signal);
    await sleep(100);
    const started = Date.now();
    controller.abort();

    const error = await rejectionOf(transcription);
    expect(error).not.toBeInstanceOf(AppError);
    expect(Date.now() - started).toBeLessThan(3_000);
    await fake.waitForAborts(1);
  });

  it('asks for an MP3 of the text in the configured model and voice and answers its bytes', async () => {
    const speech = await alloy().synthesize('-Hello there', never);

    expect(speech).toEqual({ audio: fake.behaviour.speech, mimeType: 'audio/mpeg' });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/audio/speech' });
    expect(request!.body).toEqual({ model: 'tts-1', voice: 'alloy', input: '-Hello there', response_format: 'mp3' });
  });

  it('reports an upstream failure of speech synthesis with the provider codes', async () => {
    fake.failNext({ status: 401 }, { status: 503 });
    expect((await rejectionOf(alloy().synthesize('Hello', never))).code).toBe('provider_auth_failed');
    expect((await rejectionOf(alloy().synthesize('Hello', never))).code).toBe('provider_error');
  });
});

const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

/** Whether `audio` opens like an MP3: an ID3 tag or an MPEG audio frame sync (11 set bits). */
function looksLikeMp3(audio: Buffer): boolean {
  return audio.toString('latin1', 0, 3) === 'ID3' || (audio[0] === 0xff && (audio[1]! & 0xe0) === 0xe0);
}

/** Seconds of audio in an MP3, decoded by ffmpeg back to 16 kHz mono PCM. */
async function secondsOf(mp3: Buffer): Promise<number> {
  const { stdout } = await runProgram(
    'ffmpeg',
    ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'],
    mp3,
    never,
  );
  return stdout.length / 32_000;
}

describe.skipIf(!speechProgramsAvailable)('the offline speech engines', () => {
  const espeak = new EspeakTextToSpeech({ engine: 'espeak', voice: 'en-us' });
  const pocketsphinx = new PocketsphinxSpeechToText();

  it('speaks text with espeak-ng as an MP3 of about the right length', async () => {
    const { audio, mimeType } = await espeak.synthesize('Hello there, how are you today?', never);

    expect(mimeType).toBe('audio/mpeg');
    expect(looksLikeMp3(audio)).toBe(true);
    // 64 kbit/s is 8 kB per second; the sentence takes about two seconds.
    expect(audio.length).toBeGreaterThan(5_000);
    expect(audio.length).toBeLessThan(50_000);
    const seconds = await secondsOf(audio);
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(5);
  });

  it('speaks a text that starts with a dash instead of taking it for an option', async () => {
    const { audio } = await espeak.synthesize('--version -v xx is what I said', never);

    expect(looksLikeMp3(audio)).toBe(true);
    expect(await secondsOf(audio)).toBeGreaterThan(1);
  });

  it('refuses blank text as an invalid request', async () => {
    expect((await rejectionOf(espeak.synthesize(' \n', never))).code).toBe('invalid_request');
  });

  it('reports a missing or failing espeak-ng as service_unavailable, naming the program and nothing more', async () => {
    const missing = new EspeakTextToSpeech({ engine: 'espeak', voice: 'en-us' }, { espeak: 'parley-missing-espeak-ng' });
    const notInstalled = await rejectionOf(missing.synthesize('Hello', never));
    expect(notInstalled.code).toBe('service_unavailable');
    expect(notInstalled.message).toBe('Speech synthesis is unavailable: parley-missing-espeak-ng is not installed');

    const unknownVoice = new EspeakTextToSpeech({ engine: 'espeak', voice: 'nosuchvoice' });
    const failed = await rejectionOf(unknownVoice.synthesize('Hello', never));
    expect(failed.code).toBe('service_unavailable');
    expect(failed.message).toBe('Speech synthesis is unavailable: espeak-ng failed');
    // espeak-ng's own complaint is kept for the log.
    expect(String((failed.cause as Error).message)).toContain('voice does not exist');
  });

  it('recognises real speech with pocketsphinx', async () => {
    // pocketsphinx's general model mishears espeak-ng's voice on most phrases; these two it hears every time.
    const text = await pocketsphinx.transcribe(await spokenPcm('how are you', 500), never);

    expect(text.split(' ')).toEqual(expect.arrayContaining(['how', 'you']));
  });

  it('joins the utterances pocketsphinx finds in one recording with a space', async () => {
    const pcm = Buffer.concat([await spokenPcm('how are you', 2000), await spokenPcm('where are you', 500)]);

    const text = await pocketsphinx.transcribe(pcm, never);

    expect(text).not.toContain('\n');
    expect(text).toMatch(/\bhow\b.*\bwhere\b/);
  });

  it('hears nothing in silence or in no audio at all', async () => {
    expect(await pocketsphinx.transcribe(Buffer.alloc(32_000), never)).toBe('');
    expect(await pocketsphinx.transcribe(Buffer.alloc(0), never)).toBe('');
  });

  it('stops pocketsphinx when the signal is aborted, leaving no process or temporary file behind', async () => {
    const long = await spokenPcm('how are you where are you '.repeat(8), 500);
    const before = await temporaryDirectories();
    const controller = new AbortController();
    const transcription = pocketsphinx.transcribe(long, controller.signal);
    await sleep(150);
    expect(await runningChildren()).toContain('pocketsphinx_co');
    const started = Date.now();
    controller.abort();

    const error = await rejectionOf(transcription);
    expect(error).not.toBeInstanceOf(AppError);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await temporaryDirectories()).toEqual(before);
    await expect.poll(runningChildren, { timeout: 2_000 }).not.toContain('pocketsphinx_co');
  });

  it('runs no more recognisers at once than the machine has cores, queueing the rest', async () => {
    const speech = await spokenPcm('how are you', 300);
    const transcriptions = Array.from({ length: availableParallelism() + 3 }, () => pocketsphinx.transcribe(speech, never));
    let mostAtOnce = 0;
    let settled = false;
    void Promise.allSettled(transcriptions).then(() => (settled = true));
    while (!settled) {
      mostAtOnce = Math.max(mostAtOnce, (await runningChildren()).filter((name) => name === 'pocketsphinx_co').length);
      await sleep(20);
    }

    expect(mostAtOnce).toBeGreaterThan(0);
    expect(mostAtOnce).toBeLessThanOrEqual(availableParallelism());
    for (const text of await Promise.all(transcriptions)) expect(text).toContain('how');
  });

  it('rejects an already aborted signal before creating anything', async () => {
    const before = await temporaryDirectories();
    const controller = new AbortController();
    controller.abort();

    await expect(pocketsphinx.transcribe(tone(), controller.signal)).rejects.toThrow();
    expect(await temporaryDirectories()).toEqual(before);
  });

  it('reports a missing pocketsphinx as service_unavailable, naming the program', async () => {
    const missing = new PocketsphinxSpeechToText({ program: 'parley-missing-pocketsphinx' });
    const before = await temporaryDirectories();

    const error = await rejectionOf(missing.transcribe(tone(), never));

    expect(error.code).toBe('service_unavailable');
    expect(error.message).toBe('Speech recognition is unavailable: parley-missing-pocketsphinx is not installed');
    expect(await temporaryDirectories()).toEqual(before);
  });
});

/** This engine's working directories in the temp dir. */
async function temporaryDirectories(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith(pocketsphinxTempPrefix)).sort();
}

/** The command names (cut to 15 characters by the kernel) of this test process's children. */
async function runningChildren(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['--ppid', String(process.pid), '-o', 'comm=']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((name) => name !== '');
}
