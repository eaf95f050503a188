import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('the OpenAPI document', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('is generated from the route schemas and served at /openapi.json', async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(document.openapi).toMatch(/^3\./);
    const chat = document.paths['/v1/chat/completions']?.post;
    expect(JSON.stringify(chat?.requestBody)).toContain('messages');
  });

  it('marks a body the route may go without as optional, and the others as required', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    };
    expect(document.paths['/api/v1/chat/sessions']?.post?.requestBody?.required).toBe(false);
    expect(document.paths['/v1/chat/completions']?.post?.requestBody?.required).toBe(true);
  });

  it('has a browsable UI at /docs', async () => {
    const response = await fetch(`${server.url}/docs`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger');
  });
});
