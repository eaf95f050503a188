import Database from 'libsql';
import { afterAll, describe, expect, it } from 'vitest';
import type { Behaviour, Fault } from '../support/fake-upstream.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { streamingSurfaces, type ClientPlan, type Ending, type SurfaceDriver, type TurnRun } from './streaming-surfaces.js';

/**
 * The fault matrix: every upstream fault and every way a client can leave or
 * stop (rows), on every streaming surface (columns), each surface on a
 * Parley of its own. In every cell the client gets its surface's end or
 * error event (never silence), the turn's user message is stored once and
 * its reply once, ended complete, interrupted or failed, with the text that
 * was produced; replies are billed for what they hold; a normal turn after
 * each cell succeeds (with the breaker at two consecutive failures, so a
 * client leaving that were counted as one would open it); and the users'
 * totals equal the sum over their replies at the end.
 */

const replyWords = 30;
const fullReply = Array.from({ length: replyWords }, (_, index) => `word${index}`).join(' ');

interface Cell {
  name: string;
  /** The upstream's behaviour for this cell's turn, and faults queued for it. */
  upstream?: { behaviour?: Partial<Behaviour>; faults?: Fault[] };
  plan?: Omit<ClientPlan, 'message'>;
  /** What the client must see. */
  ending: Ending['kind'][];
  /** Error codes the client may get (a fault's surface code). */
  codes?: string[];
  /** How the stored reply must end. */
  reply: 'complete' | 'interrupted' | 'failed';
  /**
   * The stored reply's text: all of it, a strict prefix, what the client
   * received, nothing, or nothing-or-a-prefix (a surface whose stream opens
   * with its first token cannot be left before it).
   */
  text: 'full' | 'prefix' | 'received' | 'empty' | 'empty or prefix';
}

const providerCodes = ['provider_error', 'provider_unavailable', 'provider_unreachable', 'provider_timeout'];

const cells: Cell[] = [
  // The client's side first: five in a row, so a breaker that counted them would be open for the normal turn after.
  {
    name: 'client gone before the first token',
    plan: { leave: 'acknowledged' },
    ending: ['left'],
    reply: 'interrupted',
    text: 'empty or prefix',
  },
  { name: 'client gone mid-stream', plan: { leave: 'first-token' }, ending: ['left'], reply: 'interrupted', text: 'prefix' },
  { name: 'client gone right after the end', plan: { leave: 'after-end' }, ending: ['left'], reply: 'complete', text: 'full' },
  { name: 'two stops for one stream', plan: { stops: 2 }, ending: ['stopped', 'left'], reply: 'interrupted', text: 'prefix' },
  { name: 'a stop for a finished stream', plan: { stopAfterEnd: true }, ending: ['end', 'left'], reply: 'complete', text: 'full' },
  {
    name: 'upstream 429 with Retry-After',
    upstream: { faults: [{ status: 429, headers: { 'retry-after': '1' } }] },
    ending: ['error'],
    codes: ['provider_rate_limited'],
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream 429 without Retry-After',
    upstream: { faults: [{ status: 429 }] },
    ending: ['error'],
    codes: ['provider_rate_limited'],
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream 500',
    upstream: { faults: [{ status: 500 }] },
    ending: ['error'],
    codes: providerCodes,
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream 503',
    upstream: { faults: [{ status: 503 }] },
    ending: ['error'],
    codes: providerCodes,
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream hangs before headers',
    upstream: { behaviour: { headersDelayMs: 3_000 } },
    ending: ['error'],
    codes: providerCodes,
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream hangs after headers',
    upstream: { behaviour: { firstTokenDelayMs: 3_000 } },
    ending: ['error'],
    codes: providerCodes,
    reply: 'failed',
    text: 'empty',
  },
  {
    name: 'upstream cut after 3 tokens',
    upstream: { behaviour: { dropAfterTokens: 3 } },
    ending: ['error'],
    codes: providerCodes,
    reply: 'failed',
    text: 'received',
  },
  {
    name: 'garbage SSE from the upstream',
    upstream: { behaviour: { breakAfterTokens: { tokens: 3, raw: 'data: {not json\n\n' } } },
    ending: ['error'],
    codes: ['provider_error'],
    reply: 'failed',
    text: 'received',
  },
  {
    name: 'truncated SSE from the upstream',
    upstream: { behaviour: { breakAfterTokens: { tokens: 3, raw: '' } } },
    ending: ['error'],
    codes: ['provider_error'],
    reply: 'failed',
    text: 'received',
  },
];

/** The matrix's replies start after 300 ms and take a token every 20 ms: long enough to leave or stop in the middle. */
const slowReply: Partial<Behaviour> = { reply: fullReply, firstTokenDelayMs: 300, tokenDelayMs: 20 };

const harnesses: UpstreamHarness[] = [];
afterAll(async () => {
  await Promise.all(harnesses.map((harness) => harness.close()));
});

interface StoredRow {
  role: string;
  status: string;
  content: string;
  completion_tokens: number | null;
}

/** The user message `message` and the rows after it up to the next user message (seed 000 keeps one conversation per user). */
function turnRows(harness: UpstreamHarness, message: string): StoredRow[] {
  const database = new Database(harness.server.sqlitePath!, { readonly: true });
  try {
    const rows = database
      .prepare(
        `select role, status, content, completion_tokens from messages
         where conversation_id in (select conversation_id from messages where role = 'user' and content = ?)
         order by id`,
      )
      .all(message) as StoredRow[];
    const start = rows.findIndex((row) => row.role === 'user' && row.content === message);
    if (start === -1) return [];
    const next = rows.findIndex((row, index) => index > start && row.role === 'user');
    return rows.slice(start, next === -1 ? undefined : next);
  } finally {
    database.close();
  }
}

/** Waits until the turn's reply has ended (a stopped or left turn ends a moment after the client saw it). */
async function settledRows(harness: UpstreamHarness, message: string): Promise<StoredRow[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const rows = turnRows(harness, message);
    if ((rows.length >= 2 && !rows.some((row) => row.status === 'in_progress')) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function usageTotalsMatch(harness: UpstreamHarness): { billed: number; replies: number } {
  const database = new Database(harness.server.sqlitePath!, { readonly: true });
  try {
    const billed = database.prepare(`select coalesce(sum(completion_tokens), 0) as total from users`).get() as { total: number };
    const replies = database
      .prepare(`select coalesce(sum(completion_tokens), 0) as total from messages where role = 'assistant'`)
      .get() as { total: number };
    return { billed: billed.total, replies: replies.total };
  } finally {
    database.close();
  }
}

async function runCell(harness: UpstreamHarness, surface: SurfaceDriver, cell: Cell, index: number): Promise<string[]> {
  const problems: string[] = [];
  const message = `cell ${index}: ${cell.name}`;
  Object.assign(harness.fake.behaviour, slowReply, cell.upstream?.behaviour ?? {});
  if (cell.upstream?.faults !== undefined) harness.fake.failNext(...cell.upstream.faults);
  let run: TurnRun;
  try {
    run = await surface.run(harness.server.url, { message, ...cell.plan });
  } finally {
    harness.fake.reset();
  }
  const where = `${surface.name} / ${cell.name}`;
  if (!cell.ending.includes(run.ending.kind))
    problems.push(`${where}: the client saw ${JSON.stringify(run.ending)}, expected ${cell.ending.join(' or ')}`);
  if (run.ending.kind === 'error' && cell.codes !== undefined && !cell.codes.includes(run.ending.code)) {
    problems.push(`${where}: error code ${run.ending.code}, expected ${cell.codes.join(' or ')}`);
  }
  const rows = await settledRows(harness, message);
  const users = rows.filter((row) => row.role === 'user');
  const replies = rows.filter((row) => row.role === 'assistant');
  if (users.length !== 1 || replies.length !== 1) {
    problems.push(`${where}: stored ${users.length} user message(s) and ${replies.length} repl(ies): ${JSON.stringify(rows)}`);
  } else {
    checkReply(replies[0]!);
  }
  function checkReply(reply: StoredRow): void {
    if (reply.status !== cell.reply) problems.push(`${where}: reply stored ${reply.status}, expected ${cell.reply}`);
    const textProblem = {
      full: reply.content === fullReply ? undefined : 'not the whole reply',
      prefix:
        reply.content.length > 0 && reply.content.length < fullReply.length && fullReply.startsWith(reply.content)
          ? undefined
          : 'not a part of the reply',
      received:
        reply.content === run.text ||
        (!surface.streamsText && reply.content.length < fullReply.length && fullReply.startsWith(reply.content))
          ? undefined
          : `not what the client received (${JSON.stringify(run.text)})`,
      empty: reply.content === '' ? undefined : 'not empty',
      'empty or prefix':
        reply.content.length < fullReply.length && fullReply.startsWith(reply.content) ? undefined : 'not a part of the reply',
    }[cell.text];
    if (textProblem !== undefined) problems.push(`${where}: reply text ${JSON.stringify(reply.content.slice(0, 80))} is ${textProblem}`);
    if (reply.content === '' && (reply.completion_tokens ?? 0) !== 0)
      problems.push(`${where}: an empty reply billed ${reply.completion_tokens} tokens`);
  }

  // Healthy after: a normal turn on the same surface (also what a breaker that counted the cell would refuse).
  harness.fake.behaviour.reply = 'all is well';
  const after = await surface.run(harness.server.url, { message: `${message}, then a normal turn` });
  harness.fake.reset();
  if (after.ending.kind !== 'end' || after.text !== 'all is well')
    problems.push(`${where}: the next normal turn got ${JSON.stringify(after)}`);
  return problems;
}

describe('the fault matrix over every streaming surface', () => {
  it.concurrent.each(streamingSurfaces.map((surface) => [surface.name, surface] as const))(
    '%s: every cell ends with its event, stores one reply with what was produced, and leaves the server healthy',
    { timeout: 120_000 },
    async (_, surface) => {
      const harness = await startUpstreamHarness({
        PROVIDER_MAX_RETRIES: '0',
        PROVIDER_CONNECT_TIMEOUT_MS: '500',
        PROVIDER_FIRST_TOKEN_TIMEOUT_MS: '800',
        PROVIDER_IDLE_TIMEOUT_MS: '500',
        OPENAI_CB_THRESHOLD: '2',
        CLAUDE_CB_THRESHOLD: '2',
        OPENAI_CB_COOLDOWN: '60',
        CLAUDE_CB_COOLDOWN: '60',
        // The client-leaves cells pin abort-on-disconnect; test/resume covers detaching.
        TURN_DETACH_SECONDS: '0',
      });
      harnesses.push(harness);
      const problems: string[] = [];
      for (const [index, cell] of cells.entries()) problems.push(...(await runCell(harness, surface, cell, index)));
      const usage = usageTotalsMatch(harness);
      if (usage.billed !== usage.replies)
        problems.push(`${surface.name}: users billed ${usage.billed} tokens, replies hold ${usage.replies}`);
      const health = await fetch(`${harness.server.url}/health`);
      if (health.status !== 200) problems.push(`${surface.name}: /health answered ${health.status}`);
      expect(problems.join('\n')).toBe('');
    },
  );
});
