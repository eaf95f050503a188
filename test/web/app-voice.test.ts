import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavFile } from '../../src/voice/wav-file.js';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, silence, spokenPcm } from '../support/spoken-audio.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { testJwtSecret } from '../support/tokens.js';
import { messagesOf, openSessionId, repliesOf, sendAndWait, textsOf } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);
const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

const spoken = 'hello there';
const typed = 'remember the word zebra';

/** The voice states the page showed, in order, as a MutationObserver on the status saw them. */
const watchVoiceStates = `(() => {
  const status = document.getElementById('voice-status');
  window.voiceStates = [status.dataset.voiceState];
  new MutationObserver(() => {
    const state = status.dataset.voiceState;
    if (window.voiceStates.at(-1) !== state) window.voiceStates.push(state);
  }).observe(status, { attributes: true, attributeFilter: ['data-voice-state'] });
})()`;

const voiceState = (page: Page) => page.locator('#voice-status').getAttribute('data-voice-state');
const micButton = (page: Page) => page.locator('#voice');

/**
 * Voice mode inside the web app, in real Chromium with the page's own
 * Content-Security-Policy: the fake microphone plays espeak-ng's speech,
 * MediaRecorder streams it over seed 004's events into the open
 * conversation, the fake Whisper hears it, the fake chat model answers and
 * espeak-ng speaks the answer, which the page plays from a blob URL.
 * Signed in with a built-in account, so the handshake carries the token.
 */
describe.skipIf(!chromiumAvailable || !speechProgramsAvailable)('voice mode in the web app, in Chromium', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let directory: string;
  let browser: OpenedChromium;
  let page: Page;
  let token: string;
  const policyViolations: string[] = [];

  const api = async <T>(route: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${route}`, { ...init, headers: { Authorization: `Bearer ${token}` } });
    expect(response.ok, route).toBe(true);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    fake = await FakeUpstream.start({ transcript: spoken });
    server = await startTestServer({
      env: {
        JWT_SECRET: testJwtSecret,
        // Typed turns (seed 002's sessions) go to Claude, spoken ones to the voice assistant's gpt-4o-mini: both fakes.
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        SPEECH_TO_TEXT: 'openai',
        TEXT_TO_SPEECH: 'espeak',
      },
    });
    directory = await mkdtemp(path.join(os.tmpdir(), 'parley-app-voice-'));
    const microphone = path.join(directory, 'microphone.wav');
    // Chromium loops the file: one utterance, then a silence longer than the test, so it is said once.
    await writeFile(microphone, wavFile(Buffer.concat([silence(0.5), await spokenPcm(spoken, 60_000)])));
    browser = await openChromium({
      args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${microphone}`],
    });
    page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) policyViolations.push(message.text());
    });

    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
    await page.getByLabel('Email').fill('voice@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    token = (await page.evaluate('localStorage.getItem("parley.token")')) as string;
    expect(token).toBeTruthy();
  });
  afterAll(async () => {
    await browser?.close();
    await rm(directory, { recursive: true, force: true });
    await server?.close();
    await fake?.close();
  });

  it('talks into the open conversation: the transcript and the spoken reply join the typed turns, and the states return to idle', async () => {
    await sendAndWait(page, typed);
    const sessionId = await openSessionId(page);
    await page.evaluate(watchVoiceStates);
    expect(await micButton(page).getAttribute('aria-pressed')).toBe('false');
    expect(await micButton(page).getAttribute('aria-label')).toBe('Start voice mode');

    await page.getByRole('button', { name: 'Start voice mode' }).click();
    await expect.poll(() => micButton(page).getAttribute('aria-pressed')).toBe('true');
    expect(await voiceState(page)).toMatch(/^(starting|listening|thinking)$/);

    await textsOf(messagesOf(page, 'user')).toEqual([typed, spoken]);
    await repliesOf(page).toEqual([`You said: ${typed}`, `You said: ${spoken}`]);
    // The reply is spoken, then voice mode listens again.
    await expect
      .poll(() => page.evaluate('window.voiceStates'), { timeout: 15_000 })
      .toEqual(['idle', 'starting', 'listening', 'thinking', 'speaking', 'listening']);
    expect(await page.locator('#voice-status').textContent()).toBe('Listening…');
    expect(await micButton(page).getAttribute('aria-label')).toBe('Stop voice mode (listening)');

    // One history: the store holds the spoken turn after the typed one, in this conversation.
    const history = await api<{ messages: { role: string; content: string }[] }>(`/api/v1/chat/messages/${sessionId}`);
    expect(history.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', typed],
      ['assistant', `You said: ${typed}`],
      ['user', spoken],
      ['assistant', `You said: ${spoken}`],
    ]);
    // The spoken question was answered knowing what was typed before it.
    const voiceTurns = fake.requests.filter((request) => request.path === '/v1/chat/completions');
    expect(voiceTurns).toHaveLength(1);
    expect(JSON.stringify(voiceTurns[0]!.body.messages)).toContain(typed);

    await page.getByRole('button', { name: 'Stop voice mode (listening)' }).click();
    await expect.poll(() => voiceState(page)).toBe('idle');
    expect(await micButton(page).getAttribute('aria-pressed')).toBe('false');
    expect(await page.locator('#voice-status').textContent()).toBe('');
    expect(await page.locator('#error').count()).toBe(0);
    expect(policyViolations).toEqual([]);
  });

  it('loads the Socket.IO client only when the microphone is first used', async () => {
    const fresh = await browser.context.newPage();
    try {
      const scripts: string[] = [];
      fresh.on('request', (request) => {
        if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
      });
      await fresh.goto(`${server.url}/`);
      await fresh.getByRole('button', { name: 'Start voice mode' }).waitFor();
      const firstLoad = scripts.length;
      expect(firstLoad).toBeGreaterThan(0);
      await fresh.getByRole('button', { name: 'Start voice mode' }).click();
      await expect.poll(() => voiceState(fresh), { timeout: 10_000 }).toBe('listening');
      expect(scripts.length).toBeGreaterThan(firstLoad);
      await fresh.getByRole('button', { name: /^Stop voice mode/ }).click();
      await expect.poll(() => voiceState(fresh)).toBe('idle');
    } finally {
      await fresh.close();
    }
  });

  it('shows a refused connection in the error banner and stays idle: the conversation was deleted in another tab', async () => {
    await sendAndWait(page, 'a conversation to delete');
    const sessionId = await openSessionId(page);
    const deleted = await fetch(`${server.url}/api/v1/chat/sessions/${sessionId}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(deleted.status).toBe(204);

    await page.getByRole('button', { name: 'Start voice mode' }).click();
    await expect.poll(() => page.locator('#error-text').textContent()).toBe('Voice mode could not connect: Conversation not found');
    expect(await voiceState(page)).toBe('idle');
    expect(await micButton(page).getAttribute('aria-pressed')).toBe('false');
    await page.getByRole('button', { name: 'Dismiss error' }).click();
    expect(await page.locator('#error').count()).toBe(0);
  });

  it('says so when the microphone is refused, and opens no connection', async () => {
    // No --use-fake-ui-for-media-stream: headless Chromium refuses the permission prompt.
    const refusing = await openChromium({ args: ['--use-fake-device-for-media-stream'] });
    try {
      const refused = await refusing.context.newPage();
      await refused.goto(`${server.url}/`);
      await refused.evaluate(`localStorage.setItem('parley.token', ${JSON.stringify(token)})`);
      await refused.reload();
      await refused.getByRole('button', { name: 'Start voice mode' }).click();
      await expect
        .poll(() => refused.locator('#error-text').textContent())
        .toBe('The microphone is blocked: allow it for this site to use voice mode.');
      expect(await voiceState(refused)).toBe('idle');
    } finally {
      await refusing.close();
    }
  });
});
