import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

describe('GET /api/v1/usage/daily', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: testJwtSecret, TOKEN_BUDGET_DAILY: '100000' } });
  });
  afterAll(() => server.close());

  it("shows the caller's tokens per day, zeros included, and what is left of their budgets", async () => {
    const token = await signToken('carol');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const chat = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'parley-demo', messages: [{ role: 'user', content: 'Count my tokens' }] }),
    });
    const usage = ((await chat.json()) as { usage: { total_tokens: number } }).usage;

    const response = await fetch(`${server.url}/api/v1/usage/daily?days=7`, { headers });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      days: { day: string; tokens: number }[];
      todayTokens: number;
      budgets: { daily: number | null; todayLeft: number | null; lifetime: number | null };
    };
    expect(body.days).toHaveLength(7);
    expect(body.days.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), tokens: usage.total_tokens });
    expect(body.days.slice(0, 6).every((day) => day.tokens === 0)).toBe(true);
    expect(body.todayTokens).toBe(usage.total_tokens);
    expect(body.budgets).toMatchObject({ daily: 100000, todayLeft: 100000 - usage.total_tokens, lifetime: 1_000_000 });

    expect((await fetch(`${server.url}/api/v1/usage/daily?days=0`, { headers })).status).toBe(400);
    expect((await fetch(`${server.url}/api/v1/usage/daily`)).status).toBe(401);
  });
});
