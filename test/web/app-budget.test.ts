import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const built = fileURLToPath(new URL('../../dist/web', import.meta.url));
/** docs/web.md: the first load's script, gzipped, stays under this, so the app is quick on a phone. */
const budgetBytes = 150 * 1024;

describe('the web app’s first-load budget', () => {
  it('loads under 150 kB of script, gzipped, counting every script and preload the page names', async () => {
    // Built by the test suite's globalSetup (test/support/build-web-app.ts).
    const page = await readFile(path.join(built, 'index.html'), 'utf8');
    const scripts = [
      ...page.matchAll(/<script[^>]*\ssrc="([^"]+)"/g),
      ...page.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
    ].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    // Nothing inline: the CSP allows only the app's own files.
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    let total = 0;
    for (const script of scripts) {
      expect(script).toMatch(/^\/app\/assets\/[\w.-]+-[\w-]{8}\.js$/);
      total += gzipSync(await readFile(path.join(built, script.replace(/^\/app\//, '')))).length;
    }
    expect(total).toBeGreaterThan(10 * 1024);
    expect(total).toBeLessThan(budgetBytes);
  });
});
