import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const javascript = 'text/javascript; charset=utf-8';

export interface StaticPage {
  /** Where it is served, e.g. '/voice-assistant': index.html there, every file under it. */
  route: string;
  /** Its folder under the project root, e.g. 'web/voice-assistant'. */
  directory: string;
  /** The folder's files, by name, with their content types. */
  files: Record<string, string>;
  /** A Content-Security-Policy of its own, instead of helmet's default. */
  contentSecurityPolicy?: string;
}

/**
 * A page made of a handful of fixed files, read once at startup: no
 * static-file server is needed for that. Hidden from the OpenAPI document.
 */
export async function registerStaticPage(app: FastifyInstance, page: StaticPage): Promise<void> {
  const directory = path.join(projectRoot(), page.directory);
  const files = Object.entries(page.files).map(([name, type]) => [name, { type, path: path.join(directory, name) }] as const);
  const hidden = { schema: { hide: true } };
  for (const [name, file] of files) {
    const content = await readFile(file.path);
    const serve = async (_request: unknown, reply: FastifyReply) => {
      if (page.contentSecurityPolicy !== undefined) reply.header('content-security-policy', page.contentSecurityPolicy);
      return reply.type(file.type).send(content);
    };
    app.get(`${page.route}/${name}`, hidden, serve);
    if (name === 'index.html') {
      app.get(page.route, hidden, serve);
      app.get(`${page.route}/`, hidden, serve);
    }
  }
}

/** The directory holding package.json, found upwards from this module (src/, dist/ or a bench build). */
export function projectRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('Cannot find the project root (package.json) for the web pages');
    directory = parent;
  }
  return directory;
}
