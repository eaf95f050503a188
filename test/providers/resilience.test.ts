import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';

const longReply = Array.from({ length: 100 }, (_, index) => `word${index}`).join(' ');

type Harness = UpstreamHarness;

/** Retries back off from 10 ms here, so the tests stay fast. */
function startHarness(env: Record<string, string>): Promise<Harness> {
  return startUpstreamHarness({ PROVIDER_RETRY_BASE_DELAY_MS: '10', ...env });
}

function stopHarness(harness: Harness): Promise<void> {
  return harness.close();
}

function chat(harness: Harness, options: { stream?: boolean; model?: string } = {}): Promise<Response> {
  return fetch(`${harness.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: options.model ?? 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: options.stream ?? false,
    }),
  });
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

async function lastReply(harness: Harness) {
  const { items } = await harness.server.app.store.listConversations('local', 'openai', { page: 1, limit: 1 });
  const { items: messages } = await harness.server.app.store.listMessages('local', items[0]!.id, { page: 1, limit: 10 });
  return messages[1];
}

describe('retries before the first token', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ PROVIDER_MAX_RETRIES: '2', PROVIDER_RETRY_MAX_DELAY_MS: '1500', OPENAI_CB_THRESHOLD: '0' });
  });
  afterEach(() => harness.fake.reset());
  afterAll(() => stopHarness(harness));

  it('retries a 500 and a 429 and then answers', async () => {
    harness.fake.failNext({ status: 500 }, { status: 429 });
    const response = await chat(harness);
    expect(response.status).toBe(200);
    expect(harness.fake.requests).toHaveLength(3);
  });

  it('gives up after the configured retries with the last error', async () => {
    harness.fake.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    const response = await chat(harness);
    expect(response.status).toBe(502);
    expect(harness.fake.requests).toHaveLength(3);
  });

  it('waits as long as Retry-After says before retrying', async () => {
    harness.fake.failNext({ status: 429, headers: { 'retry-after': '1' } });
    const startedAt = performance.now();
    const response = await chat(harness);
    expect(response.status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(950);
  });

  it('passes a Retry-After longer than it will wait straight on to the client', async () => {
    harness.fake.failNext({ status: 429, headers: { 'retry-after': '30' } });
    const response = await chat(harness);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(harness.fake.requests).toHaveLength(1);
  });

  it('stops waiting to retry as soon as the client leaves: the reply ends interrupted and the upstream is not asked again', async () => {
    harness.fake.failNext({ status: 429, headers: { 'retry-after': '1' } });
    const client = new AbortController();
    const answer = fetch(`${harness.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: client.signal,
    }).catch(() => undefined);
    await expect.poll(() => harness.fake.requests.length).toBe(1);
    const leftAt = performance.now();
    client.abort();
    await answer;
    await expect.poll(async () => (await lastReply(harness))?.status, { interval: 10, timeout: 900 }).toBe('interrupted');
    expect(performance.now() - leftAt).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(harness.fake.requests).toHaveLength(1);
  });

  it('never retries once text has reached the client', async () => {
    harness.fake.behaviour.reply = longReply;
    harness.fake.behaviour.dropAfterTokens = 3;
    const response = await chat(harness, { stream: true });
    const body = await response.text();
    expect(body).toContain('word2');
    expect(body).toContain('"error"');
    expect(harness.fake.requests).toHaveLength(1);
  });
});

describe('the circuit breaker', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ PROVIDER_MAX_RETRIES: '0', OPENAI_CB_THRESHOLD: '2', OPENAI_CB_COOLDOWN: '1' });
  });
  afterAll(() => stopHarness(harness));

  it('opens after the threshold, fails fast with 503 while open, and closes after the cooldown', async () => {
    harness.fake.failNext({ status: 500 }, { status: 500 });
    expect((await chat(harness)).status).toBe(502);
    expect((await chat(harness)).status).toBe(502);

    const refused = await chat(harness);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await errorCode(refused)).toBe('provider_unavailable');
    expect(harness.fake.requests).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await chat(harness)).status).toBe(200);
    expect((await chat(harness)).status).toBe(200);
    expect(harness.fake.requests).toHaveLength(4);
  });

  it('never counts a client that leaves before the first token, or a refused request, as a provider failure', async () => {
    harness.fake.reset();
    // Headers come at once, the first token only after the clients have gone.
    harness.fake.behaviour.firstTokenDelayMs = 5_000;
    for (let client = 0; client < 4; client++) {
      const controller = new AbortController();
      const response = fetch(`${harness.server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }),
        signal: controller.signal,
      }).catch(() => undefined);
      // The stream's headers only leave once the first token arrived, so the client gives up waiting for them.
      await expect.poll(() => harness.fake.openRequests).toBe(1);
      controller.abort();
      await response;
      await harness.fake.waitForAborts(client + 1);
    }
    harness.fake.failNext({ status: 400 }, { status: 400 }, { status: 401 });
    for (let request = 0; request < 3; request++) expect((await chat(harness)).status).not.toBe(503);

    harness.fake.behaviour.firstTokenDelayMs = 0;
    expect((await chat(harness)).status).toBe(200);
  });
});

describe('fallback models', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      PROVIDER_MAX_RETRIES: '0',
      CLAUDE_CB_THRESHOLD: '1',
      CLAUDE_CB_COOLDOWN: '60',
      FALLBACK_MODELS: 'anthropic=gpt-4o-mini',
    });
  });
  afterAll(() => stopHarness(harness));

  it('answers with the fallback model while the provider fails, and says so on the stored reply', async () => {
    harness.fake.failNext({ status: 500 });
    const failing = await chat(harness, { model: 'claude-3-haiku' });
    expect(failing.status).toBe(200);
    expect(((await failing.json()) as { model: string }).model).toBe('gpt-4o-mini');
    expect(await lastReply(harness)).toMatchObject({ model: 'gpt-4o-mini', provider: 'openai (fallback from claude-3-haiku)' });

    // The breaker is open now: the fallback answers without asking Anthropic.
    const before = harness.fake.requests.length;
    expect((await chat(harness, { model: 'claude-3-haiku' })).status).toBe(200);
    expect(harness.fake.requests.slice(before).map((request) => request.path)).toEqual(['/v1/chat/completions']);
  });
});

describe('provider timeouts', () => {
  const timeouts = {
    PROVIDER_MAX_RETRIES: '0',
    PROVIDER_CONNECT_TIMEOUT_MS: '150',
    PROVIDER_FIRST_TOKEN_TIMEOUT_MS: '300',
    PROVIDER_IDLE_TIMEOUT_MS: '150',
    PROVIDER_TOTAL_TIMEOUT_MS: '1000',
  };
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness(timeouts);
  });
  afterEach(() => harness.fake.reset());
  afterAll(() => stopHarness(harness));

  it('fires the connect timeout when the upstream sends no headers', async () => {
    harness.fake.behaviour.headersDelayMs = 400;
    const response = await chat(harness);
    expect(response.status).toBe(504);
    expect(await errorCode(response)).toBe('provider_timeout');
    await harness.fake.waitForAborts(1, 1000);
  });

  it('fires the first-token timeout when headers come but no text', async () => {
    harness.fake.behaviour.firstTokenDelayMs = 600;
    const response = await chat(harness);
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('first token');
  });

  it('fires the idle timeout between tokens and stores the partial reply as failed', async () => {
    harness.fake.behaviour.reply = 'one two three';
    harness.fake.behaviour.tokenDelayMs = 400;
    const response = await chat(harness, { stream: true });
    const body = await response.text();
    expect(body).toContain('idle');
    expect(await lastReply(harness)).toMatchObject({ status: 'failed', content: 'one' });
  });

  it('fires the total timeout on a reply that goes on too long', async () => {
    harness.fake.behaviour.reply = longReply;
    harness.fake.behaviour.tokenDelayMs = 100;
    const response = await chat(harness, { stream: true });
    const body = await response.text();
    expect(body).toContain('total');
    const reply = await lastReply(harness);
    expect(reply?.status).toBe('failed');
    expect(reply?.content.startsWith('word0 word1')).toBe(true);
  });
});
