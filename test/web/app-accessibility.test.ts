import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { axeViolations, countOf, messagesOf, sendAndWait } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);
const isFocused = (page: Page, selector: string) =>
  page.evaluate((wanted) => (globalThis as any).document.activeElement?.matches(wanted) ?? false, selector);

/** Accessibility, keyboard use and layout from phone to desktop. */
describe.skipIf(!chromiumAvailable)('the web app’s accessibility and layout, in Chromium', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let browser: OpenedChromium;
  let page: Page;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.anthropicBaseUrl } });
    // bypassCSP only so that axe-core's source can be injected; the app itself runs under the server's CSP in the other suites.
    browser = await openChromium({ bypassCSP: true });
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('is sent to and stopped with the keyboard alone, the reply in a live region', async () => {
    const longReply = Array.from({ length: 80 }, (_, index) => `token${index}`).join(' ');
    fake.behaviour = { ...fake.behaviour, reply: 'Short answer.' };
    await page.goto(`${server.url}/`);
    await page.locator('#empty-state').waitFor();
    // Shift+Esc puts the cursor in the message box from anywhere.
    await page.locator('#search').focus();
    await page.keyboard.press('Shift+Escape');
    expect(await isFocused(page, '#input')).toBe(true);
    await page.keyboard.type('hello by keyboard');
    await page.keyboard.press('Enter');
    const live = page.locator('[aria-live="polite"]');
    await expect.poll(() => live.textContent()).toContain('Short answer.');

    // Esc stops a streaming reply.
    fake.behaviour = { ...fake.behaviour, reply: longReply, tokenDelayMs: 40 };
    await page.keyboard.type('a long one');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => ((globalThis as any).document.querySelector('[data-streaming] .bubble')?.textContent ?? '').length > 10,
    );
    expect(await live.getAttribute('aria-busy')).toBe('true');
    await page.keyboard.press('Escape');
    await page.locator('#send').waitFor();
    await expect.poll(() => page.locator('#messages .stats').last().textContent()).toContain('interrupted');

    // Ctrl+Shift+O starts a new chat.
    await page.keyboard.press('Control+Shift+O');
    await page.locator('#empty-state').waitFor();
    await countOf(messagesOf(page, 'user')).toBe(0);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no critical or serious axe-core violations in the ${colorScheme} theme`, async () => {
      await page.emulateMedia({ colorScheme });
      await page.goto(`${server.url}/ai-assistant`);
      await page.locator('#empty-state').waitFor();
      fake.behaviour = { ...fake.behaviour, reply: 'A **reply** with `code`:\n\n```js\nconst x = 1;\n```', tokenDelayMs: 0 };
      await sendAndWait(page, `checking ${colorScheme}`);
      await page.locator('#messages .stats').last().waitFor();
      const violations = await axeViolations(page);
      expect(violations.filter((violation) => violation.impact === 'critical')).toEqual([]);
      expect(violations.filter((violation) => violation.impact === 'serious')).toEqual([]);
      // The theme follows the system.
      const background = await page.evaluate(
        () => (globalThis as any).getComputedStyle((globalThis as any).document.documentElement).backgroundColor,
      );
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(11, 17, 32)' : 'rgb(248, 250, 252)');
    });
  }

  it('keeps the sidebar beside the chat on a desktop and folds it into a drawer on a phone (screenshots saved)', async () => {
    const shots = await mkdtemp(path.join(os.tmpdir(), 'parley-web-screens-'));
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.url}/`);
    await page.locator('#empty-state').waitFor();
    const sidebar = page.locator('#sidebar');
    expect(await sidebar.isVisible()).toBe(true);
    const desktop = (await sidebar.boundingBox())!;
    const chat = (await page.locator('main.chat').boundingBox())!;
    expect(chat.x).toBeGreaterThanOrEqual(desktop.x + desktop.width - 1);
    await page.screenshot({ path: path.join(shots, 'desktop.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await sidebar.isVisible()).toBe(false);
    const phoneChat = (await page.locator('main.chat').boundingBox())!;
    expect(phoneChat.width).toBeGreaterThan(380);
    // No sideways scrolling on a phone.
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(shots, 'phone.png') });
    await page.getByRole('button', { name: 'Show conversations' }).click();
    expect(await sidebar.isVisible()).toBe(true);
    await page.screenshot({ path: path.join(shots, 'phone-sidebar.png') });
    await page.getByRole('button', { name: 'Close the list' }).click();
    expect(await sidebar.isVisible()).toBe(false);
    for (const name of ['desktop.png', 'phone.png', 'phone-sidebar.png'])
      expect((await stat(path.join(shots, name))).size).toBeGreaterThan(1_000);
  });

  it('stops auto-scrolling when the person scrolls up during a reply', async () => {
    await page.setViewportSize({ width: 1280, height: 500 });
    const longReply = Array.from({ length: 120 }, (_, index) => `line ${index}\n`).join('\n');
    fake.behaviour = { ...fake.behaviour, reply: longReply, tokenDelayMs: 15 };
    await page.goto(`${server.url}/`);
    await page.getByRole('textbox', { name: 'Message' }).fill('scroll test');
    await page.keyboard.press('Enter');
    const list = page.locator('#messages');
    const distanceFromBottom = () => list.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);
    await page.waitForFunction(() => {
      const element = (globalThis as any).document.querySelector('#messages');
      return element.scrollHeight > element.clientHeight * 1.5;
    });
    // While the person reads the newest text, the list follows it.
    expect(await distanceFromBottom()).toBeLessThan(48);
    await list.evaluate((element) => element.scrollTo({ top: 0 }));
    await list.evaluate((element) => element.dispatchEvent(new Event('scroll')));
    await page.waitForTimeout(300);
    expect(await list.evaluate((element) => element.scrollTop)).toBe(0);
    await page.locator('#send').waitFor({ timeout: 10_000 });
    expect(await list.evaluate((element) => element.scrollTop)).toBe(0);
  });
});
