import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '../../src/http/route-table.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { rateLimitsOff } from '../support/limits-off.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { errorShapeOf, fixedSeed, malformedRefusal, ProcessTroubles, randomSeed, rawRequest, type RawRequest } from './fuzz-support.js';
import { requestsFor } from './http-arbitraries.js';

/**
 * Every registered route (App.routes) gets generated requests: bodies of any
 * JSON shape and depth, huge strings, `__proto__` keys, bytes that are not
 * UTF-8, odd content types, query strings and path parameters. Each must be
 * answered in time, below 500, and a refusal must be its surface's JSON error.
 */

const runsPerRoute = Number(process.env.FUZZ_RUNS_PER_ROUTE ?? 30);

const troubles = new ProcessTroubles();
const statuses = new Map<number, number>();
/** Statuses seen per POST route, to show the fuzz reaches the handlers and not only the validators. */
const postStatuses = new Map<string, Set<number>>();
let local: TestServer;
let signedIn: TestServer;
let existingIds: string[];
let validToken: string;

beforeAll(async () => {
  troubles.start();
  [local, signedIn] = await Promise.all([
    startTestServer({ env: rateLimitsOff }),
    startTestServer({ env: { ...rateLimitsOff, JWT_SECRET: testJwtSecret } }),
  ]);
  existingIds = await createRecords(local);
  validToken = await signToken('fuzzer');
});

afterAll(async () => {
  troubles.stop();
  console.log('http fuzz statuses', Object.fromEntries([...statuses].sort(([a], [b]) => a - b)));
  console.log('POST routes answered', Object.fromEntries([...postStatuses].map(([url, seen]) => [url, [...seen].sort().join(' ')])));
  await Promise.all([local?.close(), signedIn?.close()]);
});

/** Records for generated ids to hit: a session, a conversation, an API key and a job of the local user. */
async function createRecords(server: TestServer): Promise<string[]> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, string>;
  };
  const session = await post('/api/v1/chat/sessions', { title: 'fuzz' });
  const conversation = await post('/api/v1/ai/conversations', { title: 'fuzz' });
  const key = await post('/api/v1/api-keys', { name: 'fuzz' });
  const job = await post('/api/v1/ai/jobs/completions', { message: 'hello' });
  return [session.id!, conversation.id!, key.id!, job.jobId!];
}

function authorizations(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constantFrom(
      undefined,
      `Bearer ${validToken}`,
      'Bearer',
      'Bearer ',
      'Basic Zm9vOmJhcg==',
      'Bearer pk_unknown',
      'Bearer a.b.c',
      'bearer x y',
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((text) => `Bearer ${text.replace(/[\r\n]/g, '')}`),
  );
}

/** One case: answered in time, no 5xx, a refusal in its surface's shape. */
async function check(server: TestServer, route: RegisteredRoute, request: RawRequest): Promise<void> {
  const response = await rawRequest(server.url, request);
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  if (route.method === 'POST') postStatuses.set(route.url, (postStatuses.get(route.url) ?? new Set()).add(response.status));
  const where = `${request.method} ${request.path.slice(0, 200)}`;
  expect(response.status, `${where} answered ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400 && request.method !== 'HEAD') {
    const problem = malformedRefusal(response, errorShapeOf(route.url));
    expect(problem, `${where} answered ${response.status} with a malformed error`).toBeUndefined();
  }
}

async function fuzzEveryRoute(seed: number, runs: number): Promise<void> {
  for (const [index, route] of local.app.routes.entries()) {
    for (const [name, server] of [
      ['local mode', local],
      ['JWT_SECRET set', signedIn],
    ] as const) {
      const requests = requestsFor(route, existingIds, authorizations());
      const property = fc.asyncProperty(requests, (request) => check(server, route, request));
      // Each route gets a seed of its own, derived from the run's, so adding a route leaves the others' cases unchanged.
      const routeSeed = (seed + index * 7_919 + (server === local ? 0 : 104_729)) | 0;
      await fc.assert(property, { seed: routeSeed, numRuns: name === 'local mode' ? runs : Math.ceil(runs / 2), endOnFailure: true });
    }
  }
}

describe('HTTP fuzzing over the route table', () => {
  it('covers routes of every surface', () => {
    const urls = local.app.routes.map((route) => route.url);
    for (const url of [
      '/v1/chat/completions',
      '/api/v1/ai/chat',
      '/api/v1/chat/messages',
      '/api/v2/ai/chat/stream',
      '/api/v1/api-keys/:id',
      '/api/v1/admin/users/:userId',
    ]) {
      expect(urls).toContain(url);
    }
  });

  it('answers every generated request in time, below 500, refusals well formed (fixed seed)', { timeout: 60_000 }, async () => {
    await fuzzEveryRoute(fixedSeed(), runsPerRoute);
  });

  it('does the same with a random seed (printed on failure)', { timeout: 30_000 }, async () => {
    const seed = randomSeed();
    try {
      await fuzzEveryRoute(seed, Math.ceil(runsPerRoute / 4));
    } catch (error) {
      throw new Error(`random-seed HTTP fuzz failed; replay with FUZZ_SEED=${seed}`, { cause: error });
    }
  });

  it('leaves both servers healthy, with no unhandled rejection or warning', async () => {
    for (const server of [local, signedIn]) {
      const health = await rawRequest(server.url, { method: 'GET', path: '/health', headers: {} });
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body.toString('utf8'))).toMatchObject({ status: 'ok' });
    }
    expect(troubles.seen).toEqual([]);
  });
});
