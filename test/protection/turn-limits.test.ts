import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startTestServer } from '../support/test-server.js';

type Harness = UpstreamHarness;

function startHarness(env: Record<string, string>): Promise<Harness> {
  return startUpstreamHarness({ JWT_SECRET: testJwtSecret, ...env });
}

async function chat(harness: Harness, user: string, content = 'hello there'): Promise<Response> {
  return fetch(`${harness.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken(user)}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
}

async function error(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('turn limits', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      MAX_MESSAGE_CHARS: '100',
      MAX_CONCURRENT_TURNS_PER_USER: '1',
      TOKEN_BUDGET_LIFETIME: '20',
      MODERATION: 'true',
    });
  });
  afterEach(() => harness.fake.reset());
  afterAll(async () => {
    await harness.close();
  });

  it('refuses a message over the length limit with 413 naming the limit, before any provider call', async () => {
    const response = await chat(harness, 'long-writer', 'x'.repeat(101));
    expect(response.status).toBe(413);
    expect((await error(response)).message).toContain('the limit is 100');
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('refuses a user over the token budget with 403 "Token limit exceeded" before any provider call', async () => {
    const first = await chat(harness, 'big-spender', 'one two three four five six seven eight nine ten');
    expect(first.status).toBe(200);
    const usage = await harness.server.app.store.getTokenUsage('big-spender');
    expect(usage.lifetimeTokens).toBeGreaterThanOrEqual(20);
    harness.fake.reset();

    const refused = await chat(harness, 'big-spender');
    expect(refused.status).toBe(403);
    expect(await error(refused)).toMatchObject({ code: 'forbidden', message: 'Token limit exceeded' });
    expect(harness.fake.requests).toHaveLength(0);
    expect((await chat(harness, 'someone-else')).status).toBe(200);
  });

  it('refuses a second concurrent reply for the same user instead of queueing it', async () => {
    harness.fake.behaviour.reply = 'slow reply with several words';
    harness.fake.behaviour.tokenDelayMs = 60;
    const first = chat(harness, 'impatient');
    await expect.poll(() => harness.fake.requests.filter((request) => request.path === '/v1/chat/completions').length).toBe(1);
    const second = await chat(harness, 'impatient');
    expect(second.status).toBe(429);
    expect((await error(second)).code).toBe('concurrency_limited');
    expect((await first).status).toBe(200);
    harness.fake.behaviour.tokenDelayMs = 0;
    expect((await chat(harness, 'impatient')).status).toBe(200);
  });

  it("runs a queued completion while the user's one reply slot is taken, instead of failing it", async () => {
    harness.fake.behaviour.reply = 'slow reply';
    harness.fake.behaviour.tokenDelayMs = 100;
    const token = await signToken('queuer');
    const streaming = chat(harness, 'queuer', 'hi');
    await expect.poll(() => harness.fake.requests.filter((request) => request.path === '/v1/chat/completions').length).toBe(1);

    const queued = await fetch(`${harness.server.url}/api/v1/ai/jobs/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: 'later' }),
    });
    expect(queued.status).toBe(202);
    const { jobId } = (await queued.json()) as { jobId: string };
    const job = async () =>
      (await (await fetch(`${harness.server.url}/api/v1/ai/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        state: string;
        failedReason: string | null;
      };
    await expect.poll(async () => (await job()).state, { timeout: 5_000 }).toMatch(/completed|failed/);
    expect(await job()).toMatchObject({ state: 'completed', failedReason: null });
    expect((await streaming).status).toBe(200);
  });

  it('refuses a message the moderation endpoint flags, before it reaches the model', async () => {
    const response = await chat(harness, 'rude', 'please FLAGME now');
    expect(response.status).toBe(400);
    expect((await error(response)).code).toBe('content_refused');
    expect(harness.fake.requests.map((request) => request.path)).toEqual(['/v1/moderations']);
  });
});

describe('token budgets under concurrency', () => {
  const budget = 300;
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      TOKEN_BUDGET_LIFETIME: String(budget),
      MAX_CONCURRENT_TURNS_PER_USER: '0',
      RATE_LIMIT_DEFAULT: '1000/60',
      RATE_LIMIT_AI_MODULE: '1000/60',
      JOB_CONCURRENCY: '20',
    });
  });
  afterAll(() => harness.close());

  // Once, the budget was read at admission only: 20 streams and 20 jobs started together all saw it unspent (3.7x overshoot).
  it('holds a lifetime budget when 20 streaming turns and 20 jobs of one user start at once', async () => {
    harness.fake.behaviour.reply = Array.from({ length: 100 }, (_, index) => `w${index}`).join(' ');
    harness.fake.behaviour.tokenDelayMs = 2;
    const token = await signToken('crowd');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const streams = Array.from({ length: 20 }, () =>
      fetch(`${harness.server.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (response) => ({ status: response.status, body: await response.text() })),
    );
    const jobs = Array.from({ length: 20 }, async () => {
      const queued = await fetch(`${harness.server.url}/api/v1/ai/jobs/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ message: 'hi' }),
      });
      expect(queued.status).toBe(202);
      const { jobId } = (await queued.json()) as { jobId: string };
      const job = async () =>
        (await (await fetch(`${harness.server.url}/api/v1/ai/jobs/${jobId}`, { headers })).json()) as {
          state: string;
          failedReason: string | null;
        };
      await expect.poll(async () => (await job()).state, { timeout: 15_000, interval: 50 }).toMatch(/completed|failed/);
      return job();
    });
    const answered = await Promise.all(streams);
    const finished = await Promise.all(jobs);

    const replies = (await harness.server.app.store.listConversations('crowd', 'openai', { page: 1, limit: 100 })).items.length;
    const usage = await harness.server.app.store.getTokenUsage('crowd');
    // One turn costs about 105 tokens here: at most one turn's worth past the budget.
    expect(usage.lifetimeTokens).toBeGreaterThanOrEqual(budget);
    expect(usage.lifetimeTokens).toBeLessThanOrEqual(budget + 110);
    // Every other turn was refused, as retryable while reservations were held, or as over the budget.
    const refusals = answered.filter((stream) => stream.status !== 200).map((stream) => stream.status);
    expect(new Set(refusals)).toEqual(new Set(refusals.filter((status) => status === 429 || status === 403)));
    expect(
      finished.filter((job) => job.state === 'failed').every((job) => /Token limit exceeded|token budget/.test(job.failedReason ?? '')),
    ).toBe(true);
    expect(replies).toBeGreaterThan(0);
  });
});

describe('the local user of single-user mode', () => {
  it('is exempt from budgets: the owner of the server is never locked out', async () => {
    const fake = await FakeUpstream.start();
    const server = await startTestServer({
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, TOKEN_BUDGET_LIFETIME: '1' },
    });
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
        });
        expect(response.status).toBe(200);
      }
    } finally {
      await server.close();
      await fake.close();
    }
  });
});
