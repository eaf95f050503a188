import type { FastifyInstance } from 'fastify';
import { javascript, registerStaticPage } from '../../http/static-page.js';

/**
 * helmet's default policy, plus `media-src blob:`: the page plays each
 * spoken reply from a blob URL of its MP3.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
  'upgrade-insecure-requests',
].join('; ');

/**
 * A page to talk to seed 004's voice assistant from a browser, at
 * /voice-assistant (web/voice-assistant/): the seed describes only the
 * back end, and this is the smallest client that exercises all of it
 * (continuous recording, transcripts, spoken replies, barge-in).
 */
export async function voiceAssistantPage(app: FastifyInstance): Promise<void> {
  await registerStaticPage(app, {
    route: '/voice-assistant',
    directory: 'web/voice-assistant',
    files: { 'index.html': 'text/html; charset=utf-8', 'voice-assistant.js': javascript, 'voice-assistant.css': 'text/css; charset=utf-8' },
    contentSecurityPolicy,
  });
}
