import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface SearchResponse {
  query: string;
  results: {
    conversationId: string;
    conversationTitle: string | null;
    surface: string;
    messageId: string;
    role: string;
    snippet: string;
    highlights: [number, number][];
  }[];
}

/** GET /api/v1/search over messages written through two different APIs, with the demo model answering. */
describe('searching messages', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  async function chat(content: string): Promise<void> {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'parley-demo', messages: [{ role: 'user', content }] }),
    });
    expect(response.status).toBe(200);
  }

  const search = (query: string) => fetch(`${server.url}/api/v1/search?${new URLSearchParams({ q: query })}`);

  it('finds a word from an earlier conversation on any surface, with where it matched in the snippet', async () => {
    await chat('My cat Xanthippe sleeps all day');
    await chat('Something else entirely');
    const seed002 = await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST' });
    const session = ((await seed002.json()) as { id: string }).id;
    const sent = await fetch(`${server.url}/api/v1/chat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ session_id: session, content: `${'Long preamble words '.repeat(10)}then xanthippe again at the end` }),
    });
    expect(sent.status, await sent.clone().text()).toBeLessThan(300);

    const response = await search('XANTH');
    expect(response.status).toBe(200);
    const body = (await response.json()) as SearchResponse;
    const users = body.results.filter((hit) => hit.role === 'user');
    expect(users.map((hit) => hit.surface)).toEqual(['chat-sessions', 'openai']);
    for (const hit of users) {
      expect(hit.highlights.length).toBeGreaterThan(0);
      for (const [start, end] of hit.highlights) expect(hit.snippet.slice(start, end).toLowerCase()).toBe('xanthippe');
    }
    // A long message is cut around its match.
    expect(users[0]!.snippet.startsWith('…')).toBe(true);
    expect(users[0]!.snippet.length).toBeLessThan(200);
  });

  it('answers 400 naming q when it holds no word, and finds nothing for words never written', async () => {
    const empty = await search('  ""*() ');
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: 'invalid_request' } });
    // FTS syntax in the query is only words to Parley, never an error.
    const odd = await search('NEAR("a" b) OR -c* ^d');
    expect(odd.status).toBe(200);
    expect(((await (await search('qwertyuiopzz')).json()) as SearchResponse).results).toEqual([]);
  });

  it('is in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(document.paths['/api/v1/search']).toBeDefined();
  });
});
