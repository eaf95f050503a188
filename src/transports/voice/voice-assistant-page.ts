import type { FastifyInstance } from 'fastify';
import { blobAudioPolicy } from '../../http/content-security-policy.js';
import { javascript, registerStaticPage } from '../../http/static-page.js';

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
    // It plays each spoken reply from a blob URL.
    contentSecurityPolicy: blobAudioPolicy,
  });
}
