import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavFile } from '../../src/voice/wav-file.js';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, silence, spokenPcm } from '../support/spoken-audio.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);
const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

/** What the page reports back from the browser: the server's events in order, and how many pieces MediaRecorder sent. */
interface BrowserRun {
  events: { event: string; payload: any }[];
  pieces: number;
  mimeType: string;
}

/**
 * The browser side, as source: vitest would rewrite a dynamic import() inside
 * a function handed to page.evaluate. Records `recordMs` of the microphone,
 * sends each 100 ms piece, stops, and collects the server's events until the
 * reply (or an error) arrives.
 */
function recordInBrowser(recordMs: number): string {
  return `(async () => {
    const { io } = await import(location.origin + '/socket.io/socket.io.esm.min.js');
    const socket = io(location.origin, { transports: ['websocket'] });
    const events = [];
    for (const event of ['speech-result', 'message-received', 'ai-typing', 'ai-response', 'error']) {
      socket.on(event, (payload) => events.push({ event, payload }));
    }
    await new Promise((resolve) => socket.on('connect', resolve));
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const recorder = new MediaRecorder(stream, { mimeType: 'audio/webm;codecs=opus' });
    let pieces = 0;
    recorder.ondataavailable = async (piece) => {
      pieces++;
      socket.emit('audio-stream', await piece.data.arrayBuffer());
    };
    socket.emit('start-recording');
    recorder.start(100);
    await new Promise((resolve) => setTimeout(resolve, ${recordMs}));
    recorder.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.emit('stop-recording');
    const deadline = Date.now() + 10000;
    while (!events.some((entry) => entry.event === 'ai-response' || entry.event === 'error') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    socket.close();
    return { events, pieces, mimeType: recorder.mimeType };
  })()`;
}

/**
 * The seed's own client, for real: Chromium records a "microphone" (its fake
 * capture device playing espeak-ng's speech) with MediaRecorder in 100 ms
 * timeslices and streams each piece as an ArrayBuffer with the Socket.IO
 * client the server itself serves.
 */
describe.skipIf(!chromiumAvailable || !speechProgramsAvailable)('a browser streaming MediaRecorder audio to the voice assistant', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let directory: string;
  let browser: OpenedChromium;
  let context: BrowserContext;

  beforeAll(async () => {
    fake = await FakeUpstream.start({ transcript: 'hello there' });
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl } });
    directory = await mkdtemp(path.join(os.tmpdir(), 'parley-voice-chromium-'));
    const microphone = path.join(directory, 'microphone.wav');
    // Chromium loops the file: speech, then long enough a silence to end the utterance before it comes round again.
    await writeFile(microphone, wavFile(Buffer.concat([silence(0.3), await spokenPcm('hello there', 3000)])));
    browser = await openChromium({
      bypassCSP: true,
      args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${microphone}`],
    });
    ({ context } = browser);
  });
  afterAll(async () => {
    await browser?.close();
    await rm(directory, { recursive: true, force: true });
    await server?.close();
    await fake?.close();
  });

  it('hears what was recorded, echoes it, and answers with the spoken reply', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/health`);
    const run = (await page.evaluate(recordInBrowser(2_500))) as BrowserRun;

    expect(run.mimeType).toMatch(/^audio\/webm/);
    expect(run.pieces).toBeGreaterThan(10);
    const names = run.events.map((entry) => entry.event);
    expect(names).not.toContain('error');
    expect(names.filter((name) => name === 'speech-result')).toHaveLength(1);
    expect(run.events.find((entry) => entry.event === 'speech-result')?.payload).toEqual({ text: 'hello there', isFinal: true });
    const response = run.events.find((entry) => entry.event === 'ai-response')?.payload;
    expect(response).toMatchObject({ text: 'You said: hello there', mimeType: 'audio/mpeg' });
    // The utterance was cut at the silence: about a second of speech, not the whole recording.
    const upload = fake.requests.find((request) => request.path === '/v1/audio/transcriptions');
    const seconds = (upload!.body.file.size - 44) / 32_000;
    expect(seconds).toBeGreaterThan(0.5);
    expect(seconds).toBeLessThan(2.5);
  });

  it('lets a user talk at /voice-assistant: the transcript, the reply and its audio appear, and typing works too', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/voice-assistant`);
    const bubbles = (role: string) => page.locator(`.message[data-role="${role}"]`);

    await page.getByRole('button', { name: 'Start talking' }).click();
    await bubbles('user').first().waitFor();
    expect(await bubbles('user').first().textContent()).toBe('hello there');
    await bubbles('assistant').first().waitFor();
    expect(await bubbles('assistant').first().textContent()).toBe('You said: hello there');
    expect(await page.locator('#speaker').getAttribute('src')).toMatch(/^blob:/);
    await page.getByRole('button', { name: 'Stop' }).click();

    await page.getByPlaceholder('…or type a message').fill('and by text?');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => bubbles('assistant').allTextContents(), { timeout: 5_000 }).toContain('You said: and by text?');
    expect(await page.locator('#error').isHidden()).toBe(true);
  });
});
