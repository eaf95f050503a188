import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnParley, type ParleyProcess } from '../support/parley-process.js';
import { temporarySqliteFile } from '../support/services.js';

/** 5 MB of JSON: five times the default BODY_LIMIT_BYTES, big enough that the client is still sending when the server refuses it. */
const oversized = JSON.stringify({
  model: 'gpt-4o-mini',
  message: 'x'.repeat(5 * 1024 * 1024),
  messages: [{ role: 'user', content: 'hi' }],
});

describe('a body larger than BODY_LIMIT_BYTES', () => {
  // A server of its own process: in the test's process the client's writes and the server's reads share one event loop and never race.
  let server: ParleyProcess;
  let database: Awaited<ReturnType<typeof temporarySqliteFile>>;
  beforeAll(async () => {
    database = await temporarySqliteFile();
    server = await spawnParley({ DATABASE_URL: `file:${database.path}`, LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await server.kill();
    await database.remove();
  });

  // Node's fetch (undici) is what the official OpenAI client sends with; it used to see EPIPE instead of the answer.
  it.each(['/v1/chat/completions', '/api/v1/ai/chat'])("is answered 413 with a JSON error Node's fetch can read, on %s", async (path) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: oversized,
      });
      expect(response.status).toBe(413);
      expect(JSON.stringify(await response.json())).toContain('payload_too_large');
    }
  });

  it('reaches the official OpenAI client as a 413 APIError', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });

  it('still answers the next request', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
