import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { javascript, registerStaticPage } from '../../http/static-page.js';

/**
 * Seed 002's web chat page at /ai-assistant (web/ai-assistant/), which
 * speaks the chat-sessions API from the browser, plus the browser (ES
 * module) builds of marked and DOMPurify for rendering replies.
 */
export async function registerAiAssistantPage(app: FastifyInstance): Promise<void> {
  const require = createRequire(import.meta.url);
  await registerStaticPage(app, {
    route: '/ai-assistant',
    directory: 'web/ai-assistant',
    files: { 'index.html': 'text/html; charset=utf-8', 'ai-assistant.js': javascript, 'ai-assistant.css': 'text/css; charset=utf-8' },
    extraFiles: {
      'vendor/marked.js': { type: javascript, path: require.resolve('marked') },
      // The package's main entry is its CommonJS build; the ES module sits beside it.
      'vendor/purify.js': { type: javascript, path: path.join(path.dirname(require.resolve('dompurify')), 'purify.es.mjs') },
    },
  });
}
