import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

const quickPrompt = 'Why has my subscriber count gone down?';
/** Seed 002's "Example Prompts", word for word. */
const seedPrompts = [
  'Why has my subscriber count gone down?',
  'Can you help me come up with a viral video idea?',
  'What are the best times to post on social media?',
  'How can I improve engagement with my audience?',
  'What content trends should I follow in 2025?',
  'Help me write a compelling video description',
];
const slowReply = 'Here are five ideas: knife skills, one-pan dinners, street food, baking basics and a pantry challenge.';

const messagesOf = (page: Page, role: 'user' | 'assistant') => page.locator(`.message[data-role="${role}"] .bubble`);

/** playwright-core has no web-first assertions: vitest polls the page instead. */
const textsOf = (locator: Locator) => expect.poll(() => locator.allTextContents(), { timeout: 5_000 });
/** Rendered replies' text with Markdown's block breaks folded into single spaces. */
const repliesOf = (page: Page) =>
  expect.poll(async () => (await messagesOf(page, 'assistant').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim()), {
    timeout: 5_000,
  });
const countOf = (locator: Locator) => expect.poll(() => locator.count(), { timeout: 5_000 });

/**
 * The page's globals, typed for code that runs in the browser (the tests
 * compile without the DOM types). Functions handed to page.evaluate are sent
 * as source, so each one reads globalThis itself.
 */
type BrowserGlobals = { document: any; location: { hash: string } };

describe.skipIf(!chromiumAvailable)("seed 002's behaviours in the web app at /ai-assistant, in Chromium", () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let browser: OpenedChromium;
  let page: Page;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // Local mode: the page needs no token (the last test starts a server that does).
    server = await startTestServer({
      env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl, PROVIDER_MAX_RETRIES: '0' },
    });
  });
  beforeEach(async () => {
    browser = await openChromium();
    page = await browser.context.newPage();
  });
  afterEach(async () => {
    await browser.close();
    fake.reset();
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('streams the reply to a quick prompt into the page and shows the history again after a reload', async () => {
    fake.behaviour = { ...fake.behaviour, reply: slowReply, tokenDelayMs: 25 };
    await page.goto(`${server.url}/ai-assistant`);
    await textsOf(page.locator('.quick-prompt')).toEqual(seedPrompts);

    await page.getByRole('button', { name: quickPrompt }).click();
    await textsOf(messagesOf(page, 'user')).toEqual([quickPrompt]);
    // Seen mid-stream: part of the reply is on the page before the rest has arrived.
    await page.waitForFunction(
      (full) => {
        const text: string =
          (globalThis as unknown as BrowserGlobals).document
            .querySelector('.message[data-role="assistant"] .bubble')
            ?.textContent?.trim() ?? '';
        return text.length > 0 && text.length < full.length && full.startsWith(text);
      },
      slowReply,
      { polling: 'raf' },
    );
    await repliesOf(page).toEqual([slowReply]);
    await page.locator('#empty-state').waitFor({ state: 'hidden' });

    // The conversation is the server's: stored, and shown again from there.
    // The open conversation is in the address (#/c/<id>), so a reload shows it again.
    const sessionId = (await page.evaluate(() => (globalThis as unknown as BrowserGlobals).location.hash)).replace('#/c/', '');
    const stored = (await (await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`)).json()) as { messages: { content: string }[] };
    expect(stored.messages.map((message) => message.content)).toEqual([quickPrompt, slowReply]);
    await page.reload();
    await textsOf(messagesOf(page, 'user')).toEqual([quickPrompt]);
    await repliesOf(page).toEqual([slowReply]);

    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await countOf(page.locator('.message')).toBe(0);
    await page.locator('#empty-state').waitFor({ state: 'visible' });
  });

  it('shows a reply continuing where it was after a refresh mid-reply, and stores it whole', async () => {
    const longReply = Array.from({ length: 60 }, (_, index) => `part${index}`).join(' ');
    fake.behaviour = { ...fake.behaviour, reply: longReply, tokenDelayMs: 40 };
    await page.goto(`${server.url}/ai-assistant`);
    await page.getByRole('button', { name: quickPrompt }).click();
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as BrowserGlobals).document.querySelector('.message[data-role="assistant"] .bubble')?.textContent ?? '')
          .length > 40,
      undefined,
      { polling: 'raf' },
    );
    await page.reload();
    // After the refresh the reply is there again, growing, before it is complete.
    await page.waitForFunction(
      (full) => {
        const text: string =
          (globalThis as unknown as BrowserGlobals).document
            .querySelector('.message[data-role="assistant"] .bubble')
            ?.textContent?.replace(/\s+/g, ' ')
            .trim() ?? '';
        return text.length > 0 && text.length < full.length && full.startsWith(text);
      },
      longReply,
      { polling: 'raf' },
    );
    await textsOf(messagesOf(page, 'user')).toEqual([quickPrompt]);
    await repliesOf(page).toEqual([longReply]);
    expect(fake.abortedCount).toBe(0);
    await page.reload();
    await repliesOf(page).toEqual([longReply]);
  });

  it("sends on Enter, keeps Shift+Enter as a new line, and shows the user's words as text", async () => {
    await page.goto(`${server.url}/ai-assistant`);
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.click();
    await page.keyboard.type('<b>line one</b>');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    await countOf(messagesOf(page, 'user')).toBe(0);
    await page.keyboard.press('Enter');

    const sent = '<b>line one</b>\nline two';
    await textsOf(messagesOf(page, 'user')).toEqual([sent]);
    await repliesOf(page).toEqual([expect.stringContaining('line two')]);
    expect(await input.inputValue()).toBe('');
    // Markup the user types is shown, never interpreted.
    await countOf(page.locator('.message[data-role="user"] .bubble b')).toBe(0);
  });

  it('renders a Markdown reply as HTML, sanitized', async () => {
    fake.behaviour = {
      ...fake.behaviour,
      reply:
        '**Three** ideas:\n\n- one\n- two\n- `three`\n\n<img src="x" onerror="window.hacked = true"><script>window.hacked = true</script>',
    };
    await page.goto(`${server.url}/ai-assistant`);
    await page.getByRole('button', { name: quickPrompt }).click();

    const reply = page.locator('.message[data-role="assistant"] .bubble');
    await textsOf(reply.locator('li')).toEqual(['one', 'two', 'three']);
    expect(await reply.locator('strong').textContent()).toBe('Three');
    expect(await reply.locator('code').textContent()).toBe('three');
    // DOMPurify keeps the image but not its handler, and drops the script.
    expect(await reply.locator('img').getAttribute('onerror')).toBeNull();
    await countOf(reply.locator('script')).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { hacked?: boolean }).hacked)).toBeUndefined();
  });

  it("shows the provider's failure and sends the message again on Retry", async () => {
    fake.failNext({ status: 500 });
    await page.goto(`${server.url}/ai-assistant`);
    await page.getByRole('textbox', { name: 'Message' }).fill('Are you there?');
    await page.getByRole('button', { name: 'Send' }).click();

    const error = page.getByRole('alert');
    await error.waitFor({ state: 'visible' });
    await expect.poll(() => error.textContent()).toContain('Anthropic');
    await countOf(page.locator('.message')).toBe(0);

    await page.getByRole('button', { name: 'Retry' }).click();
    await error.waitFor({ state: 'hidden' });
    // The server keeps the failed attempt's user message, so the retried turn carries it twice.
    await repliesOf(page).toEqual([expect.stringMatching(/^You said: Are you there\?( Are you there\?)?$/)]);
  });

  it('asks for a sign-in when the server requires one, and sends with a pasted token', async () => {
    const guarded = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl },
    });
    try {
      await page.goto(`${guarded.url}/ai-assistant`);
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      await countOf(page.locator('.quick-prompt')).toBe(0);

      await page.locator('#token-settings summary').click();
      await page.getByLabel('Bearer token (JWT) for servers that require one').fill(await signToken('creator'));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('button', { name: quickPrompt }).click();
      await repliesOf(page).toEqual([`You said: ${quickPrompt}`]);
    } finally {
      await guarded.close();
    }
  });

  it('signs up and signs in with the built-in accounts, and says so when the password is wrong', async () => {
    const guarded = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl },
    });
    try {
      await page.goto(`${guarded.url}/`);
      await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      await page.getByRole('button', { name: quickPrompt }).click();
      await repliesOf(page).toEqual([`You said: ${quickPrompt}`]);

      // Signed out (the token forgotten), a wrong password is refused with the server's words, the right one signs in.
      await page.evaluate(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
      await page.reload();
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill('wrong password!');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#sidebar .session').first().waitFor();
    } finally {
      await guarded.close();
    }
  });
});
