import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { countOf, messagesOf, openSessionId, repliesOf, sendAndWait, textsOf } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

/** The sidebar, search, delete with undo, export and import and share links, against the demo model (no configuration). */
describe.skipIf(!chromiumAvailable)('the web app’s conversations, in Chromium', () => {
  let server: TestServer;
  let browser: OpenedChromium;
  let page: Page;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await openChromium();
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const api = async <T>(path: string) => (await (await fetch(`${server.url}${path}`)).json()) as T;
  const sidebarTitles = () => page.locator('#sidebar .session-open').allTextContents();

  it('lists conversations newest first under Today, and starts a new chat', async () => {
    await page.goto(`${server.url}/`);
    await sendAndWait(page, 'first conversation about zebras');
    const first = await openSessionId(page);
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await page.locator('#empty-state').waitFor();
    await sendAndWait(page, 'second conversation about quokkas');
    const second = await openSessionId(page);
    expect(second).not.toBe(first);

    const today = page.getByRole('region', { name: 'Today' });
    await countOf(today.locator('.session')).toBe(2);
    const sessions = await api<{ sessions: { id: string; title: string }[] }>('/api/v1/chat/sessions');
    expect(sessions.sessions.map((session) => session.id)).toEqual([second, first]);
    await expect.poll(sidebarTitles).toEqual(sessions.sessions.map((session) => session.title));
    // The open conversation is marked as the current one.
    expect(await page.locator('#sidebar .session.active .session-open').getAttribute('aria-current')).toBe('page');

    await page.locator('#sidebar .session-open').nth(1).click();
    await textsOf(messagesOf(page, 'user')).toEqual(['first conversation about zebras']);
  });

  it('finds a word from an earlier conversation and opens it at that message, the match marked', async () => {
    await page.locator('#search').fill('zebr');
    const hit = page.locator('.search-hit').first();
    await hit.waitFor();
    expect(await hit.locator('mark').first().textContent()).toMatch(/^zebr/i);
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await hit.click();
    const highlighted = page.locator('#messages .message.highlighted');
    await highlighted.waitFor();
    expect(await highlighted.locator('.bubble').textContent()).toContain('zebras');
    expect(await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toMatch(
      /^#\/c\/[^/]+\/m\/[^/]+$/,
    );
    expect(await highlighted.isVisible()).toBe(true);
  });

  it('deletes a conversation only after the Undo delay, and Undo keeps it', async () => {
    const before = await sidebarTitles();
    const target = page.locator('#sidebar .session').first();
    const title = (await target.locator('.session-open').textContent())!;
    const sessionId = (await api<{ sessions: { id: string }[] }>('/api/v1/chat/sessions')).sessions[0]!.id;

    await page
      .getByRole('button', { name: `Delete ${title}` })
      .first()
      .click();
    await page.getByRole('status').filter({ hasText: 'Deleted' }).waitFor();
    await countOf(page.locator('#sidebar .session')).toBe(before.length - 1);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(sidebarTitles).toEqual(before);
    expect((await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`)).status).toBe(200);

    await page
      .getByRole('button', { name: `Delete ${title}` })
      .first()
      .click();
    // Still there on the server while the Undo toast shows; gone once it is dismissed.
    expect((await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete now' }).click();
    await expect.poll(async () => (await fetch(`${server.url}/api/v1/chat/messages/${sessionId}`)).status).toBe(404);
    await countOf(page.locator('#sidebar .session')).toBe(before.length - 1);
  });

  it('exports a conversation as Markdown and JSON and imports the JSON back as a new conversation', async () => {
    await page.locator('#sidebar .session-open').first().click();
    const sessionId = await openSessionId(page);
    const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Markdown' }).click()]);
    expect(await readFile((await markdown.path())!, 'utf8')).toMatch(/^# .*\n[\s\S]*## You/);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const exportedPath = (await json.path())!;
    const exported = JSON.parse(await readFile(exportedPath, 'utf8')) as { format: string; messages: { content: string }[] };
    expect(exported.format).toBe('parley.conversation');

    const count = await page.locator('#sidebar .session').count();
    await page.locator('#import-file').setInputFiles(exportedPath);
    await countOf(page.locator('#sidebar .session')).toBe(count + 1);
    const imported = await openSessionId(page);
    expect(imported).not.toBe(sessionId);
    await textsOf(messagesOf(page, 'user')).toEqual(
      exported.messages.filter((_, index) => index % 2 === 0).map((message) => message.content),
    );
  });

  it('makes a share link that opens read-only for someone signed out, until it is revoked', async () => {
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('button', { name: 'Create link' }).click();
    const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/ai-assistant#/shared/[A-Za-z0-9_-]{32}$`));
    const userTexts = await messagesOf(page, 'user').allTextContents();

    const stranger = await openChromium();
    try {
      const view = await stranger.context.newPage();
      await view.goto(link);
      await view.getByText('Read-only').waitFor();
      await textsOf(view.locator('.message[data-role="user"] .bubble')).toEqual(userTexts);
      await countOf(view.getByRole('textbox', { name: 'Message' })).toBe(0);

      await page.getByRole('button', { name: 'Revoke' }).click();
      await countOf(page.getByRole('textbox', { name: 'Share link' })).toBe(0);
      await view.reload();
      await view.getByRole('alert').filter({ hasText: 'revoked' }).waitFor();
    } finally {
      await stranger.close();
    }
  });

  it('shows the usage view with a bar per day and the budget left', async () => {
    await page.goto(`${server.url}/ai-assistant#/usage`);
    await countOf(page.locator('.usage-chart .bar')).toBe(30);
    const usage = await api<{ todayTokens: number }>('/api/v1/usage/daily');
    expect(usage.todayTokens).toBeGreaterThan(0);
    expect(await page.locator('.usage-chart .bar').last().getAttribute('data-tokens')).toBe(String(usage.todayTokens));
    expect(await page.locator('#usage-today-left').textContent()).toBeTruthy();
    await repliesOf(page).toEqual([]);
  });
});
