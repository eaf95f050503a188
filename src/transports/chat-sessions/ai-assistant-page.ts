import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const javascript = 'text/javascript; charset=utf-8';

/** The page's files, in web/ai-assistant/ at the project root, with their content types. */
const pageFiles = {
  'index.html': 'text/html; charset=utf-8',
  'ai-assistant.js': javascript,
  'ai-assistant.css': 'text/css; charset=utf-8',
};

/**
 * Seed 002's web chat page at /ai-assistant: a few static files, read once
 * at startup, that speak the chat-sessions API from the browser, plus the
 * browser (ES module) builds of marked and DOMPurify for rendering replies.
 * A handful of fixed files needs no static-file server.
 */
export async function registerAiAssistantPage(app: FastifyInstance): Promise<void> {
  const directory = path.join(projectRoot(), 'web', 'ai-assistant');
  const require = createRequire(import.meta.url);
  const files = new Map<string, { type: string; path: string }>([
    ...Object.entries(pageFiles).map(([name, type]) => [name, { type, path: path.join(directory, name) }] as const),
    ['vendor/marked.js', { type: javascript, path: require.resolve('marked') }],
    // The package's main entry is its CommonJS build; the ES module sits beside it.
    ['vendor/purify.js', { type: javascript, path: path.join(path.dirname(require.resolve('dompurify')), 'purify.es.mjs') }],
  ]);
  const hidden = { schema: { hide: true } };
  for (const [name, file] of files) {
    const content = await readFile(file.path);
    const serve = async (_request: unknown, reply: FastifyReply) => reply.type(file.type).send(content);
    app.get(`/ai-assistant/${name}`, hidden, serve);
    if (name === 'index.html') {
      app.get('/ai-assistant', hidden, serve);
      app.get('/ai-assistant/', hidden, serve);
    }
  }
}

/** The directory holding package.json, found upwards from this module (src/, dist/ or a bench build). */
function projectRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('Cannot find the project root (package.json) for web/ai-assistant');
    directory = parent;
  }
  return directory;
}
