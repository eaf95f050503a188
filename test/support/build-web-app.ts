import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const appDirectory = path.join(root, 'web/app');
const builtPage = path.join(root, 'dist/web/index.html');

/** The newest modification time under a directory, in ms. */
async function newestChange(directory: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * Vitest globalSetup: builds the web app (web/app → dist/web) once before
 * the suites, as `npm run build` does, so the browser tests drive the app a
 * person gets. Skipped when dist/web is newer than every source file
 * (a build takes ~2 s of a 2-core machine).
 */
export default async function buildWebApp(): Promise<void> {
  const built = await stat(builtPage).then(
    (file) => file.mtimeMs,
    () => 0,
  );
  if (built > (await newestChange(appDirectory))) return;
  await build({ configFile: path.join(appDirectory, 'vite.config.ts'), logLevel: 'warn' });
}
