import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { blobAudioPolicy } from '../../http/content-security-policy.js';
import { javascript, projectRoot } from '../../http/static-page.js';

/** Where `npm run build` (Vite, web/app/vite.config.ts) puts the web app. */
export const webAppDirectory = 'dist/web';
/** The URL prefix of its hashed files: Vite's `base`. */
const assetPrefix = '/app/';
/** Where the app's page is served: the root, and seed 002's path. */
const pageRoutes = ['/', '/ai-assistant', '/ai-assistant/'];

const contentTypes: Record<string, string> = {
  '.js': javascript,
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const hidden = { schema: { hide: true } };

/**
 * The web app (web/app/, docs/web.md) as Vite built it: its page at `/` and
 * `/ai-assistant`, its content-hashed files under `/app/`, all read once at
 * startup. The page's Content-Security-Policy is helmet's default plus
 * `media-src blob:`, for voice mode's spoken replies: it loads only its own
 * script and stylesheet, nothing inline. A server started
 * without the build answers the page with 503 and how to build it, instead
 * of failing to boot (most test suites never open the page).
 */
export async function webAppPage(app: FastifyInstance): Promise<void> {
  const directory = path.join(projectRoot(), webAppDirectory);
  const indexPath = path.join(directory, 'index.html');
  if (!existsSync(indexPath)) {
    for (const route of pageRoutes) {
      app.get(route, hidden, async (_request, reply) =>
        reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The web app is not built: run `npm run build` (Vite builds web/app into dist/web).'),
      );
    }
    return;
  }
  const page = await readFile(indexPath);
  const servePage = async (_request: unknown, reply: FastifyReply) =>
    // Always asked again, so a new build's asset names reach the browser.
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', blobAudioPolicy)
      .type('text/html; charset=utf-8')
      .send(page);
  for (const route of pageRoutes) app.get(route, hidden, servePage);

  for (const file of await filesUnder(directory)) {
    if (file === 'index.html') continue;
    const type = contentTypes[path.extname(file)];
    if (type === undefined) continue;
    const content = await readFile(path.join(directory, file));
    app.get(`${assetPrefix}${file}`, hidden, async (_request, reply) =>
      // The names carry a hash of the content: a browser may keep them for good.
      reply.header('cache-control', 'public, max-age=31536000, immutable').type(type).send(content),
    );
  }
}

/** Every file below a directory, as paths relative to it with `/` separators. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}
