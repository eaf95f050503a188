/** The app's place, kept in the URL's hash so a reload or a link opens the same view (the server serves one page). */
export type Route =
  { view: 'chat'; sessionId?: string; messageId?: string } | { view: 'shared'; token: string } | { view: 'usage' } | { view: 'admin' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'shared' && parts[1]) return { view: 'shared', token: parts[1] };
  if (parts[0] === 'usage') return { view: 'usage' };
  if (parts[0] === 'admin') return { view: 'admin' };
  if (parts[0] === 'c' && parts[1])
    return { view: 'chat', sessionId: parts[1], ...(parts[2] === 'm' && parts[3] ? { messageId: parts[3] } : {}) };
  return { view: 'chat' };
}

export function chatHash(sessionId?: string, messageId?: string): string {
  if (sessionId === undefined) return '#/';
  return `#/c/${encodeURIComponent(sessionId)}${messageId ? `/m/${encodeURIComponent(messageId)}` : ''}`;
}

export function sharedUrl(token: string): string {
  return `${location.origin}/ai-assistant#/shared/${encodeURIComponent(token)}`;
}
