import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The page's files, in web/ai-assistant/ at the project root, with their content types. */
const pageFiles = {
  'index.html': 'text/html; charset=utf-8',
  'ai-assistant.js': 'text/javascript; charset=utf-8',
  'ai-assistant.css': 'text/css; charset=utf-8',
} as const;

/**
 * Seed 002's web chat page at /ai-assistant: three static files, read once
 * at startup, that speak the chat-sessions API from the browser. A handful
 * of fixed files needs no static-file server.
 */
export async function registerAiAssistantPage(app: FastifyInstance): Promise<void> {
  const directory = path.join(projectRoot(), 'web', 'ai-assistant');
  const contents = new Map<string, Buffer>();
  for (const name of Object.keys(pageFiles)) contents.set(name, await readFile(path.join(directory, name)));
  const serve = (name: keyof typeof pageFiles) => async (_request: unknown, reply: FastifyReply) =>
    reply.type(pageFiles[name]).send(contents.get(name));
  const hidden = { schema: { hide: true } };
  app.get('/ai-assistant', hidden, serve('index.html'));
  app.get('/ai-assistant/', hidden, serve('index.html'));
  app.get('/ai-assistant/ai-assistant.js', hidden, serve('ai-assistant.js'));
  app.get('/ai-assistant/ai-assistant.css', hidden, serve('ai-assistant.css'));
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
