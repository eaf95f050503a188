import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** Found by test/fuzz/http-fuzz.test.ts: these failed before any route, in Fastify's own `{ error: 'Bad Request' }` shape. */
describe('requests the router refuses', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each([
    ['an undecodable path parameter', '/api/v1/ai/conversations/%', 400],
    ['a path parameter longer than the router accepts', `/api/v1/ai/conversations/${'a'.repeat(300)}`, 414],
  ])('answers %s with Parley’s JSON error', async (_name, path, status) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).not.toBe('');
  });
});
