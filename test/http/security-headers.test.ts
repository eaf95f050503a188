import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('HTTP security', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { CORS_ORIGIN: 'https://app.example.com', BODY_LIMIT_BYTES: '65536' } });
  });
  afterAll(() => server.close());

  it('sends security headers on every response', async () => {
    for (const path of ['/health', '/v1/models', '/no-such-route']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('strict-transport-security'), path).toContain('max-age');
      expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(response.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(response.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('allows CORS only for CORS_ORIGIN', async () => {
    const allowed = await fetch(`${server.url}/health`, { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const refused = await fetch(`${server.url}/health`, { headers: { origin: 'https://evil.example.com' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a Socket.IO message larger than the limit by closing that connection, and stays healthy', async () => {
    const socket = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit('ai:chat', { message: 'x'.repeat(100_000) });
    expect(await disconnected).toBe('transport close');
    socket.close();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
