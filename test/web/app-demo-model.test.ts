import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { messagesOf, repliesOf } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

const examplePrompt = 'What are the best times to post on social media?';

/**
 * A fresh clone with no configuration at all: no provider key, no token, the
 * default SQLite file (here the run's own). The app at `/` opens straight into
 * the chat, and the built-in demo model answers a prompt in it, streamed,
 * stored, and named in the sidebar.
 */
describe.skipIf(!chromiumAvailable)('the web app with no configuration, in Chromium', () => {
  let server: TestServer;
  let browser: OpenedChromium;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await openChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('answers an example prompt with the demo model, keeps it across a reload, and titles the chat', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { demoMode: boolean };
    expect(health.demoMode).toBe(true);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: examplePrompt }).click();
    await repliesOf(page).toEqual([expect.stringContaining(`built-in demo model`)]);
    expect((await messagesOf(page, 'assistant').allTextContents())[0]).toContain(`You said: "${examplePrompt}"`);
    await page.locator('#send').waitFor();

    await page.reload();
    await repliesOf(page).toEqual([expect.stringContaining(`You said: "${examplePrompt}"`)]);
    // The demo model's title is the first message.
    await expect.poll(() => page.locator('nav, aside').first().textContent(), { timeout: 5_000 }).toContain(examplePrompt);
  });
});
