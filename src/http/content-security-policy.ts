/**
 * helmet's default Content-Security-Policy plus `media-src 'self' blob:`,
 * for the pages that play spoken replies (seed 004's voice assistant) from a
 * blob URL of their MP3: the voice page and the web app's voice mode.
 * Their Socket.IO connection needs nothing more: `default-src 'self'`
 * covers `connect-src`, and CSP Level 3's 'self' matches the page's own
 * origin over ws:/wss: too.
 */
export const blobAudioPolicy = [
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
