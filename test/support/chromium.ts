import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt package `chromium`, installed by .ci/run). */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** For requireService. */
export function checkChromium(): Promise<void> {
  return access(chromiumPath);
}

export interface OpenedChromium {
  context: BrowserContext;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * A real headless Chromium with a profile of its own, so storage never leaks
 * between tests. The network flags keep it from calling Google's services,
 * which this machine refuses.
 */
export async function openChromium(options: { args?: string[]; bypassCSP?: boolean } = {}): Promise<OpenedChromium> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    bypassCSP: options.bypassCSP ?? false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args ?? []),
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
