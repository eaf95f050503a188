import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS, fakeEmbedding, FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The vector OpenAI's base64 encoding carries: little-endian float32. */
function decodeBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

/**
 * POST /v1/embeddings as the official openai client calls it, in front of
 * an OpenAI upstream: one string or many, float or base64, `dimensions`.
 */
describe('POST /v1/embeddings', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, MAX_MESSAGE_CHARS: '1000' } });
    client = new OpenAI({ apiKey: 'ignored-in-local-mode', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('embeds an array of inputs in order through the official client (which asks for base64 and decodes it)', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    expect(result.object).toBe('list');
    expect(result.model).toBe('text-embedding-3-small');
    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    expect(result.data[0]!.embedding).toEqual(fakeEmbedding('first text'));
    expect(result.data[1]!.embedding).toEqual(fakeEmbedding('second text'));
    expect(result.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    // What reached OpenAI is its own format: the inputs as one array.
    expect(fake.requests.at(-1)?.body).toMatchObject({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    // Billed to the caller (the local user in local mode), as a turn's prompt is.
    const usage = (await (await fetch(`${server.url}/api/v1/ai/usage`)).json()) as { totalTokens: number };
    expect(usage.totalTokens).toBe(4);
  });

  it('answers floats or base64 as asked, and passes dimensions on', async () => {
    const call = (body: object) =>
      fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const floats = (await (await call({ model: 'text-embedding-3-small', input: 'one', encoding_format: 'float' })).json()) as {
      data: { embedding: number[] }[];
    };
    expect(floats.data[0]!.embedding).toEqual(fakeEmbedding('one'));
    expect(floats.data[0]!.embedding).toHaveLength(EMBEDDING_DIMENSIONS);
    const encoded = (await (
      await call({ model: 'text-embedding-3-small', input: 'one', encoding_format: 'base64', dimensions: 8 })
    ).json()) as {
      data: { embedding: string }[];
    };
    expect(typeof encoded.data[0]!.embedding).toBe('string');
    expect(decodeBase64(encoded.data[0]!.embedding)).toEqual(fakeEmbedding('one').slice(0, 8));
    expect(fake.requests.at(-1)?.body).toMatchObject({ input: ['one'], dimensions: 8 });
  });

  it('refuses a bad input with OpenAI’s error shape naming the field, and sends nothing upstream', async () => {
    for (const [body, status, param] of [
      [{ model: 'text-embedding-3-small', input: [] }, 400, 'input'],
      [{ model: 'text-embedding-3-small', input: [1, 2, 3] }, 400, 'input'],
      [{ model: 'text-embedding-3-small', input: 'x', encoding_format: 'int8' }, 400, 'encoding_format'],
      [{ model: 'text-embedding-3-small', input: 'x', dimensions: 0 }, 400, 'dimensions'],
      [{ input: 'x' }, 400, 'model'],
      [{ model: 'text-embedding-3-small', input: ['fine', 'x'.repeat(1001)] }, 413, 'input'],
      [{ model: 'text-embedding-3-small', input: Array.from({ length: 9 }, () => 'x'.repeat(1000)) }, 413, 'input'],
    ] as const) {
      const response = await fetch(`${server.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(status);
      const { error } = (await response.json()) as { error: { message: string; type: string; param: string | null } };
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(error.message.length).toBeGreaterThan(0);
    }
    expect(fake.requests).toHaveLength(0);
  });
});

describe('POST /v1/embeddings and token budgets', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, TOKEN_BUDGET_LIFETIME: '5' } });
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('spends the budget and is refused with 403 once it is spent, before calling upstream', async () => {
    const client = new OpenAI({ apiKey: 'ignored-in-local-mode', baseURL: `${server.url}/v1`, maxRetries: 0 });
    // Four words, four tokens: under the budget of 5, then over it.
    await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one more' });
    const refused = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'too much' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain('Token limit exceeded');
    expect(fake.requests).toHaveLength(2);
  });
});
