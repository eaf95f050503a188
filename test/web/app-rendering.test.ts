import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { countOf, messagesOf, openSessionId, repliesOf, sendAndWait } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

type BrowserGlobals = { navigator: { clipboard: { readText(): Promise<string> } }; hacked?: boolean };

/** How replies render: highlighted code, copy buttons, sanitizing, per-reply stats, the model picker and Stop. */
describe.skipIf(!chromiumAvailable)('the web app’s replies, in Chromium', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let browser: OpenedChromium;
  let page: Page;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl, PROVIDER_MAX_RETRIES: '0' },
    });
    browser = await openChromium();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await browser.context.newPage();
    await page.goto(`${server.url}/ai-assistant`);
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  const clipboard = () => page.evaluate(() => (globalThis as unknown as BrowserGlobals).navigator.clipboard.readText());

  it('highlights code blocks and copies a code block and a whole message', async () => {
    const code = 'const answer = 42;\nfunction twice(x) {\n  return x * 2;\n}';
    fake.behaviour = { ...fake.behaviour, reply: `Here you go:\n\n\`\`\`js\n${code}\n\`\`\`\n\nDone.` };
    await sendAndWait(page, 'show me code');
    const reply = page.locator('#messages .message[data-role="assistant"]').last();
    await reply.locator('pre code.hljs.language-js').waitFor();
    expect(await reply.locator('.hljs-keyword').allTextContents()).toEqual(expect.arrayContaining(['const', 'function', 'return']));
    expect(await reply.locator('.hljs-number').first().textContent()).toBe('42');

    await reply.getByRole('button', { name: 'Copy code' }).click();
    await expect.poll(clipboard).toBe(code);
    await reply.getByRole('button', { name: 'Copy message' }).click();
    await expect.poll(clipboard).toBe(`Here you go:\n\n\`\`\`js\n${code}\n\`\`\`\n\nDone.`);
  });

  it('renders a hostile reply without running any of it', async () => {
    fake.behaviour = {
      ...fake.behaviour,
      reply:
        'Look <img src=x onerror="window.hacked = true"> and <script>window.hacked = true</script> [link](javascript:window.hacked=true) `<b>kept as code</b>`',
    };
    await sendAndWait(page, 'be hostile');
    const bubble = page.locator('#messages .message[data-role="assistant"] .bubble').last();
    await bubble.locator('code').waitFor();
    expect(await bubble.locator('code').textContent()).toBe('<b>kept as code</b>');
    await countOf(bubble.locator('script')).toBe(0);
    expect(await bubble.locator('img').getAttribute('onerror')).toBeNull();
    expect(await bubble.locator('a').getAttribute('href')).toBeNull();
    await page
      .locator('#messages img')
      .first()
      .evaluate((image) => new Promise((resolve) => setTimeout(resolve, 200, image)));
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).hacked)).toBeUndefined();
  });

  it('shows each reply’s model, tokens and latency, and sends the model picked from /v1/models', async () => {
    const stats = page.locator('#messages .message[data-role="assistant"] .stats').last();
    await expect
      .poll(() => stats.textContent())
      .toMatch(/^claude-[\w.-]+ · \d+ tokens · first token \d+(\.\d)? m?s · total \d+(\.\d)? m?s$/);

    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    const picked = models.data[0]!.id;
    await expect
      .poll(() => page.locator('#model option').allTextContents())
      .toEqual(['Server default', ...models.data.map((model) => model.id)]);
    await page.getByLabel('Model').selectOption(picked);
    const [request] = await Promise.all([
      page.waitForRequest((sent) => sent.url().includes('/api/v1/chat/messages') && sent.method() === 'POST'),
      sendAndWait(page, 'with the picked model'),
    ]);
    expect(request.postDataJSON()).toMatchObject({ content: 'with the picked model', model: picked });
    // Kept for the next visit.
    await page.reload();
    expect(await page.getByLabel('Model').inputValue()).toBe(picked);
    await page.getByLabel('Model').selectOption('');
  });

  it('stops a slow reply with the Stop button and keeps the partial reply after a reload', async () => {
    const longReply = Array.from({ length: 80 }, (_, index) => `word${index}`).join(' ');
    fake.behaviour = { ...fake.behaviour, reply: longReply, tokenDelayMs: 40 };
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('tell me a long story');
    await page.keyboard.press('Enter');
    // The typing indicator shows until the first token.
    await page.getByRole('status', { name: 'Assistant is typing' }).waitFor();
    await page.waitForFunction(
      () => ((globalThis as any).document.querySelector('[data-streaming] .bubble')?.textContent ?? '').length > 20,
      undefined,
      { polling: 'raf' },
    );
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('#send').waitFor();
    const sessionId = await openSessionId(page);
    const stored = (await (await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`)).json()) as {
      messages: { status: string; content: string }[];
    };
    const reply = stored.messages[1]!;
    expect(reply.status).toBe('interrupted');
    expect(reply.content.length).toBeGreaterThan(0);
    expect(longReply.startsWith(reply.content)).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);

    await page.reload();
    await repliesOf(page).toEqual([reply.content.replace(/\s+/g, ' ').trim()]);
    await expect.poll(() => page.locator('#messages .stats').last().textContent()).toContain('interrupted');
    await countOf(messagesOf(page, 'user')).toBe(1);
  });
});
