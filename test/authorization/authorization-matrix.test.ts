import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '../../src/http/route-table.js';
import { socketEventTable } from '../../src/app/socket-surfaces.js';
import { rateLimitsOff } from '../support/limits-off.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { intrudersOf, type Intruder } from './intruders.js';
import { createOwnerRecords, type OwnerRecords } from './owner-records.js';
import { probeEvent, probeHandshake, probeRoute, type Probe } from './probes.js';

/**
 * Generated from the route table (App.routes) and the socket event tables:
 * every route or event that takes an id is tried by every intruder with
 * every one of the owner's ids and with ids that do not exist. Each must be
 * answered the same whichever id it names (a difference tells an intruder
 * the record exists), must never show the owner's content, and must leave
 * the owner's records as they were. A new route or event joins the matrix
 * by being registered.
 */

let harness: UpstreamHarness;
let owner: OwnerRecords;
let ownerToken: string;
let intruders: Intruder[];
/** Every owner id plus a missing UUID and a missing id of another shape. */
let ids: string[];
let idRoutes: RegisteredRoute[];
let snapshotBefore: Map<string, string>;
const upstreamRequestsBefore = { count: 0 };
/** One line per cell, printed at the end: what each intruder got. */
const matrix: string[] = [];

const idEvents = socketEventTable.flatMap(({ namespace, events }) =>
  Object.entries(events).flatMap(([event, entry]) => (entry.idField === undefined ? [] : [{ namespace, event, idField: entry.idField }])),
);

/** Handshake `auth` fields that name a record for the whole connection (the voice assistant's conversationId). */
const idHandshakes = socketEventTable.flatMap(({ namespace, handshakeIdField }) =>
  handshakeIdField === undefined ? [] : [{ namespace, idField: handshakeIdField }],
);

beforeAll(async () => {
  harness = await startUpstreamHarness({ ...rateLimitsOff, JWT_SECRET: testJwtSecret, MAX_CONCURRENT_TURNS_PER_USER: '1000' });
  const ownerId = `owner-${randomUUID()}`;
  ownerToken = await signToken(ownerId);
  owner = await createOwnerRecords(harness.server.url, ownerId, ownerToken);
  intruders = await intrudersOf(ownerId, owner.revokedApiKey);
  ids = [...Object.values(owner.ids), randomUUID(), 'no-such-record'];
  idRoutes = readableRoutes().filter((route) => route.idParameters.length > 0 || route.bodyIdFields.length > 0);
  snapshotBefore = await stableSnapshot();
  upstreamRequestsBefore.count = harness.fake.requests.length;
}, 30_000);

afterAll(async () => {
  console.log(`authorization matrix (route or event | intruder | answer):\n${matrix.sort().join('\n')}`);
  await harness?.close();
});

/**
 * The ids to try a route with, the path's and the body's: the same one, or,
 * for a route that takes a record in its path and another in its body (a
 * session and one of its messages), every pair.
 */
function idPairs(route: RegisteredRoute, recordIds: string[]): [string, string][] {
  if (route.idParameters.length === 0 || route.bodyIdFields.length === 0) return recordIds.map((id) => [id, id]);
  return recordIds.flatMap((id) => recordIds.map((bodyId): [string, string] => [id, bodyId]));
}

/** Routes a client can call with a concrete path: not HEAD twins, not wildcards. */
function readableRoutes(): RegisteredRoute[] {
  return harness.server.app.routes.filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS' && !route.url.includes('*'));
}

/** Nothing of the owner's in what an intruder got: not their content, not their user id, not an id the probe did not send. */
function expectNoLeak(probe: Probe, sentId: string | undefined, where: string): void {
  expect(probe.text, `${where} showed the owner's content`).not.toContain(owner.marker);
  expect(probe.text, `${where} showed the owner's user id`).not.toContain(owner.ownerId);
  for (const id of Object.values(owner.ids)) {
    if (id !== sentId) expect(probe.text, `${where} showed the owner's record ${id}`).not.toContain(id);
  }
}

/**
 * What the owner reads with GET on every route, for every id: taken twice
 * and kept only where both agree, so what changes on its own (a clock) is
 * left out and what remains must not change when intruders are done.
 */
async function stableSnapshot(): Promise<Map<string, string>> {
  const take = async () => {
    const reads = new Map<string, string>();
    for (const route of readableRoutes().filter((candidate) => candidate.method === 'GET')) {
      for (const id of route.idParameters.length > 0 ? Object.values(owner.ids) : ['']) {
        const probe = await probeRoute(harness.server.url, route, ownerToken, id);
        if (probe.outcome.startsWith('200')) reads.set(`GET ${route.url} ${id}`, probe.text);
      }
    }
    return reads;
  };
  const [first, second] = [await take(), await take()];
  return new Map([...second].filter(([key, text]) => first.get(key) === text));
}

describe('authorization matrix over the route and event tables', () => {
  it('covers the id-taking routes and events of every surface', () => {
    const covered = idRoutes.map((route) => `${route.method} ${route.url}`);
    for (const route of [
      'GET /api/v1/ai/conversations/:id',
      'DELETE /api/v1/ai/conversations/:id',
      'GET /api/v1/ai/jobs/:id',
      'DELETE /api/v1/api-keys/:id',
      'GET /api/v1/chat/messages/:session_id',
      'DELETE /api/v1/chat/sessions/:session_id',
      'PATCH /api/v1/chat/sessions/:session_id',
      'POST /api/v1/ai/chat',
      'POST /api/v1/ai/jobs/completions',
      'POST /api/v1/chat/messages',
      'POST /api/v2/ai/chat/stream',
      'GET /v1/chat/completions/:turnId/stream',
      'GET /api/v1/chat/replies/:message_id/stream',
      'GET /api/v2/ai/chat/stream/:turnId',
      'POST /api/v1/chat/replies/:message_id/regenerate',
      'PUT /api/v1/chat/sessions/:session_id/branch',
      'PATCH /api/v1/admin/users/:userId',
    ]) {
      expect(covered).toContain(route);
    }
    expect(idEvents.map(({ event }) => event).sort()).toEqual(['ai:chat', 'chat:start', 'turn:resume', 'turn:resume']);
    expect(idHandshakes).toEqual([{ namespace: '/', idField: 'conversationId' }]);
    expect(intruders.map((intruder) => intruder.name)).toHaveLength(6);
  });

  it(
    'answers every intruder alike for existing and missing ids on every id-taking route, showing nothing of the owner',
    { timeout: 60_000 },
    async () => {
      const differing: string[] = [];
      await Promise.all(
        idRoutes.map(async (route) => {
          for (const intruder of intruders) {
            const outcomes = new Map<string, string[]>();
            for (const id of ids) {
              const probe = await probeRoute(harness.server.url, route, intruder.token, id);
              const where = `${intruder.name}: ${route.method} ${route.url} with ${id}`;
              expect(Number(probe.outcome.slice(0, 3)), `${where} answered ${probe.outcome}`).toBeLessThan(500);
              expectNoLeak(probe, id, where);
              outcomes.set(probe.outcome, [...(outcomes.get(probe.outcome) ?? []), id]);
            }
            matrix.push(`${route.method} ${route.url} | ${intruder.name} | ${[...outcomes.keys()].join(' / ')}`);
            if (outcomes.size > 1) differing.push(`${intruder.name}: ${route.method} ${route.url}: ${JSON.stringify([...outcomes])}`);
          }
        }),
      );
      expect(differing).toEqual([]);
    },
  );

  it('answers every intruder alike on every id-taking socket event, showing nothing of the owner', { timeout: 60_000 }, async () => {
    const differing: string[] = [];
    await Promise.all(
      idEvents.map(async ({ namespace, event, idField }) => {
        for (const intruder of intruders) {
          const outcomes = new Map<string, string[]>();
          for (const id of ids) {
            const probe = await probeEvent(harness.server.url, namespace, event, idField, intruder.token, id);
            const where = `${intruder.name}: ${event} on ${namespace} with ${id}`;
            expect(probe.outcome, `${where} got no answer`).not.toBe('silence');
            expectNoLeak(probe, id, where);
            outcomes.set(probe.outcome, [...(outcomes.get(probe.outcome) ?? []), id]);
          }
          matrix.push(`${event} on ${namespace} | ${intruder.name} | ${[...outcomes.keys()].join(' / ')}`);
          if (outcomes.size > 1) differing.push(`${intruder.name}: ${event} on ${namespace}: ${JSON.stringify([...outcomes])}`);
        }
      }),
    );
    expect(differing).toEqual([]);
  });

  it('answers every intruder alike on every handshake option that names a record, showing nothing of the owner', async () => {
    const differing: string[] = [];
    for (const { namespace, idField } of idHandshakes) {
      for (const intruder of intruders) {
        const outcomes = new Map<string, string[]>();
        for (const id of ids) {
          const probe = await probeHandshake(harness.server.url, namespace, idField, intruder.token, id);
          const where = `${intruder.name}: auth.${idField} on ${namespace} with ${id}`;
          expect(probe.outcome, where).toMatch(/^connect_error /);
          expectNoLeak(probe, id, where);
          outcomes.set(probe.outcome, [...(outcomes.get(probe.outcome) ?? []), id]);
        }
        matrix.push(`auth.${idField} on ${namespace} | ${intruder.name} | ${[...outcomes.keys()].join(' / ')}`);
        if (outcomes.size > 1) differing.push(`${intruder.name}: auth.${idField} on ${namespace}: ${JSON.stringify([...outcomes])}`);
      }
    }
    expect(differing).toEqual([]);
  });

  it('shows intruders nothing of the owner on any other route', { timeout: 60_000 }, async () => {
    const others = readableRoutes().filter((route) => !idRoutes.includes(route));
    for (const route of others) {
      for (const intruder of intruders) {
        const probe = await probeRoute(harness.server.url, route, intruder.token, '');
        expectNoLeak(probe, undefined, `${intruder.name}: ${route.method} ${route.url}`);
      }
    }
  });

  it("never sends the owner's messages upstream for an intruder's turn", () => {
    const intrudersUpstream = harness.fake.requests.slice(upstreamRequestsBefore.count);
    // The seed 003 rows and the leak sweep's chat routes do run turns for intruders: the check means something.
    expect(intrudersUpstream.length).toBeGreaterThan(0);
    for (const request of intrudersUpstream) expect(request.raw.toString('utf8')).not.toContain(owner.marker);
  });

  it("leaves every one of the owner's records as it was", async () => {
    const after = await stableSnapshot();
    expect(snapshotBefore.size).toBeGreaterThan(5);
    for (const [read, text] of snapshotBefore) expect(after.get(read), read).toBe(text);
  });

  it("serves the owner their own records on the same routes and events (the matrix's ids were real)", { timeout: 30_000 }, async () => {
    // The admin API takes user ids and an admin (test/transports/admin.test.ts serves it); here it is only tried by intruders.
    for (const route of idRoutes.filter((candidate) => !candidate.url.startsWith('/api/v1/admin/'))) {
      // A DELETE gets records of its own: one surface's DELETE may remove another's record (a seed 002 session is a conversation).
      const records = route.method === 'DELETE' ? await createOwnerRecords(harness.server.url, owner.ownerId, ownerToken) : owner;
      const answers = [];
      for (const [id, bodyId] of idPairs(route, Object.values(records.ids))) {
        answers.push((await probeRoute(harness.server.url, route, ownerToken, id, bodyId)).outcome);
      }
      expect(
        answers.some((outcome) => outcome.startsWith('2')),
        `${route.method} ${route.url}: ${answers.join(' | ')}`,
      ).toBe(true);
    }
    for (const { namespace, event, idField } of idEvents) {
      const answers = [];
      for (const id of Object.values(owner.ids))
        answers.push((await probeEvent(harness.server.url, namespace, event, idField, ownerToken, id)).outcome);
      expect(
        answers.some((outcome) => !outcome.includes('error') && outcome !== 'silence'),
        `${event}: ${answers.join(' | ')}`,
      ).toBe(true);
    }
    for (const { namespace, idField } of idHandshakes) {
      const answers = [];
      for (const id of Object.values(owner.ids))
        answers.push((await probeHandshake(harness.server.url, namespace, idField, ownerToken, id)).outcome);
      expect(answers, `auth.${idField}: ${answers.join(' | ')}`).toContain('connected');
    }
  });
});
