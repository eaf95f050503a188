import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serverBehindRedisRelay, type ServerBehindRedisRelay } from '../support/redis-relay-server.js';
import { checkRedis, requireService } from '../support/services.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

const redisAvailable = await requireService('Redis', () => checkRedis());

/**
 * The limits a Redis shares between instances, while that Redis is gone (the
 * relay cut: a stopped server) or silent (the relay stalled: a paused or hung
 * one, as `CLIENT PAUSE` does, without pausing the machine's Redis for every
 * other suite): each instance goes on counting in memory, so the limits
 * still hold on it, no request fails or waits long for Redis, and the counts
 * are in Redis again once it is back.
 */
describe.skipIf(!redisAvailable)('limits while Redis is away', () => {
  let fake: FakeUpstream;
  let limited: ServerBehindRedisRelay;
  let budgeted: ServerBehindRedisRelay;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    [limited, budgeted] = await Promise.all([
      serverBehindRedisRelay(fake, { JWT_SECRET: testJwtSecret, RATE_LIMIT_AI_MODULE: '3/60', MAX_CONCURRENT_TURNS_PER_USER: '1' }),
      // Room for one turn's reservation (its message plus the 1,000 reserved for its reply), not two.
      serverBehindRedisRelay(fake, { JWT_SECRET: testJwtSecret, TOKEN_BUDGET_LIFETIME: '1500', TOKEN_BUDGET_RESERVE: '1000' }),
    ]);
  });
  afterEach(() => {
    fake.reset();
    for (const { relay } of [limited, budgeted]) {
      relay.resume();
      relay.restore();
    }
  });
  afterAll(async () => {
    await Promise.all([limited?.close(), budgeted?.close()]);
    await fake?.close();
  });

  async function chat(behindRelay: ServerBehindRedisRelay, user: string, message = 'hello'): Promise<Response> {
    return fetch(`${behindRelay.server.url}/api/v1/ai/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken(user)}` },
      body: JSON.stringify({ message }),
    });
  }

  async function errorCode(response: Response): Promise<string> {
    return ((await response.json()) as { error: { code: string } }).error.code;
  }

  /** Until a user's requests are counted in Redis again: a key of theirs appears under the run's prefix. */
  async function countedInRedisAgain(behindRelay: ServerBehindRedisRelay, user: string): Promise<void> {
    await expect
      .poll(
        async () => {
          await chat(behindRelay, user);
          return (await behindRelay.keys.keys()).some((key) => key.includes(user));
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
  }

  it("holds a user's rate limit in memory while Redis is gone, answering at once", async () => {
    // Connected first, so the cut drops a live connection (after an earlier cut, ioredis takes a moment to reconnect).
    await countedInRedisAgain(limited, 'warm-before-cut');
    limited.relay.cut();
    const started = Date.now();
    const statuses: number[] = [];
    for (let request = 0; request < 4; request += 1) statuses.push((await chat(limited, 'rate-cut')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps answering while Redis holds its connections without a word, waiting at most a few seconds in all', async () => {
    await countedInRedisAgain(limited, 'warm-before-stall');
    limited.relay.stall();
    const started = Date.now();
    const statuses: number[] = [];
    // The first turn waits out a command timeout or two; the watchdog then drops the silent connection.
    for (let request = 0; request < 6; request += 1) statuses.push((await chat(limited, `rate-stall-${request}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  /** Starts a slow reply for `user` with Redis cut, and returns the answer to a second one sent while it runs. */
  async function secondTurnWhileFirstRuns(behindRelay: ServerBehindRedisRelay, user: string): Promise<Response> {
    behindRelay.relay.cut();
    fake.behaviour.reply = Array.from({ length: 20 }, (_, index) => `word${index}`).join(' ');
    fake.behaviour.tokenDelayMs = 20;
    const first = chat(behindRelay, user);
    await expect.poll(() => fake.openRequests).toBe(1);
    const second = await chat(behindRelay, user);
    expect((await first).status).toBe(200);
    return second;
  }

  it("refuses a user's second concurrent reply in memory while Redis is gone", async () => {
    const second = await secondTurnWhileFirstRuns(limited, 'concurrent');
    expect(second.status).toBe(429);
    expect(await errorCode(second)).toBe('concurrency_limited');
    // The slot is free again once the first reply has ended.
    fake.behaviour.tokenDelayMs = 0;
    expect((await chat(limited, 'concurrent')).status).toBe(200);
  });

  it("reserves a user's token budget in memory while Redis is gone", async () => {
    const second = await secondTurnWhileFirstRuns(budgeted, 'budget');
    expect(second.status).toBe(429);
    expect(await errorCode(second)).toBe('concurrency_limited');
  });

  it('counts in Redis again once it is back, without a restart', async () => {
    limited.relay.cut();
    expect((await chat(limited, 'returning')).status).toBe(200);
    limited.relay.restore();
    await countedInRedisAgain(limited, 'returning-after');
    const health = await fetch(`${limited.server.url}/health`);
    expect(health.status).toBe(200);
  });
});
