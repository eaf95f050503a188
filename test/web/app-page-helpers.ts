import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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

/** Signs up a built-in account from the sign-in form (a server with JWT_SECRET) and waits for the chat. */
export async function signUp(page: Page, email: string, password = 'correct horse battery'): Promise<void> {
  await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** The signed-in person's token, as the app keeps it (web/app/src/api/http.ts). */
export async function savedToken(page: Page): Promise<string> {
  const token = (await page.evaluate('localStorage.getItem("parley.token")')) as string | null;
  expect(token).toBeTruthy();
  return token!;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core inside the page and returns the violations. Its source is
 * injected as a script, so the page must be opened with bypassCSP (the app's
 * CSP allows only its own files).
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: await axeSource });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations.map(({ id, impact, nodes }) => ({ id, impact, nodes: nodes.map(({ target }) => ({ target })) }));
  });
}
