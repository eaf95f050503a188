import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Helpers the web app's browser suites share (playwright-core has no web-first assertions: vitest polls the page). */

export const messagesOf = (page: Page, role: 'user' | 'assistant') => page.locator(`#messages .message[data-role="${role}"] .bubble`);

export const textsOf = (locator: Locator) => expect.poll(() => locator.allTextContents(), { timeout: 5_000 });

export const countOf = (locator: Locator) => expect.poll(() => locator.count(), { timeout: 5_000 });

/** Rendered replies' text with Markdown's block breaks folded into single spaces. */
export const repliesOf = (page: Page) =>
  expect.poll(async () => (await messagesOf(page, 'assistant').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim()), {
    timeout: 5_000,
  });

/** Types a message into the composer and sends it with Enter, then waits until no reply streams. */
export async function sendAndWait(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.keyboard.press('Enter');
  await page.locator('#messages .message[data-role="user"] .bubble', { hasText: text }).first().waitFor();
  await page.locator('#send').waitFor();
}

/** The open conversation's id, from the address (#/c/<id>). */
export async function openSessionId(page: Page): Promise<string> {
  await page.waitForFunction(() => (globalThis as unknown as { location: { hash: string } }).location.hash.startsWith('#/c/'));
  const hash = await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);
  return decodeURIComponent(hash.replace('#/c/', '').split('/')[0]!);
}
