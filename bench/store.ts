/**
 * Stored turns per second: 8 concurrent turn loops, each turn reading the
 * last 20 messages, storing the user message, storing the reply and adding
 * usage, through Parley's store (beginTurn + finishTurn) and through the bare
 * driver running the same statements (bench/lib/bare-turn-store.ts), on a
 * temp SQLite file and on a fresh Postgres database. The store runs in this
 * process, so `--profile=<dir>` profiles it (only the measured window; read
 * the files with bench/lib/summarize-profile.ts). Turns/s is bounded by CPU
 * here: SQLite runs in this process, and a local Postgres shares the cores
 * (its CPU per turn is reported too).
 *
 *   npx tsx bench/store.ts [--tiny] [--seconds=8] [--rounds=2] [--only=parley-sqlite,bare-postgres,…]
 *     [--profile=<dir>]  writes <dir>/<store>-<backend>-<round>.cpuprofile of each measured window
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ChatStore } from '../src/store/chat-store.js';
import { openChatStore } from '../src/store/open-chat-store.js';
import { barePostgresRunner, bareSqliteRunner, type TurnContent, type TurnRunner } from './lib/bare-turn-store.js';
import { argValue } from './lib/bench-args.js';
import { startProfiling } from './lib/in-process-profile.js';
import { postgresCpuMsSince, postgresCpuSnapshot } from './lib/postgres-cpu.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { round, summarize } from './lib/stats.js';
import { tempDatabase, type TempDatabase } from './lib/temp-database.js';

type Backend = 'sqlite' | 'postgres';
type Implementation = 'parley' | 'bare';

const tiny = isTiny();
const loops = 8;
const seconds = Number(argValue('seconds') ?? (tiny ? 1 : 8));
const rounds = Number(argValue('rounds') ?? (tiny ? 1 : 2));
const only = argValue('only')?.split(',');
const profileDirectory = argValue('profile');
const adminPostgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Warm-up turns per loop: 20 messages of history before measuring, and the JIT warmed. */
const warmUpTurns = tiny ? 10 : 25;

const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index % 50}`).join(' ');
const content: TurnContent = { prompt: words(30), promptTokens: 40, reply: words(150), completionTokens: 200 };

function parleyRunner(store: ChatStore): TurnRunner {
  return {
    async createConversation(userId) {
      return (await store.createConversation(userId, { surface: 'ai-module', title: 'bench' })).id;
    },
    async turn(userId, conversationId, turn) {
      const begun = await store.beginTurn({
        userId,
        target: { kind: 'existing', conversationId },
        content: turn.prompt,
        tokens: turn.promptTokens,
        historyLimit: 20,
        reply: { model: 'gpt-4o', provider: 'openai' },
      });
      await store.finishTurn({
        userId,
        conversationId,
        messageId: begun.replyId,
        content: turn.reply,
        status: 'complete',
        model: 'gpt-4o',
        provider: 'openai',
        promptTokens: turn.promptTokens,
        completionTokens: turn.completionTokens,
        timeToFirstTokenMs: 12.3,
        latencyMs: 1234.5,
      });
    },
    close: () => store.close(),
  };
}

interface RunResult {
  backend: Backend;
  implementation: Implementation;
  round: number;
  turns: number;
  turnsPerSecond: number;
  turnP50Ms: number;
  turnP99Ms: number;
  /** This process's CPU per turn: the store's own work plus the driver's (and SQLite's, which runs in-process). */
  cpuMsPerTurn: number;
  /** Postgres only (when it runs on this machine): its CPU per turn, backends of this database plus WAL writer and checkpointer. */
  databaseCpuMsPerTurn: number | null;
}

async function run(backend: Backend, implementation: Implementation, roundNumber: number): Promise<RunResult> {
  const database: TempDatabase = await tempDatabase(backend);
  let runner: TurnRunner | undefined;
  try {
    // The schema always comes from Parley's migrations, so both sides run on the same tables and indexes.
    const store = await openChatStore(database.url);
    await store.migrate();
    if (implementation === 'parley') {
      runner = parleyRunner(store);
    } else {
      await store.close();
      runner = backend === 'sqlite' ? bareSqliteRunner(database.url.replace(/^file:/, '')) : barePostgresRunner(database.url);
    }
    const active = runner;
    const users = Array.from({ length: loops }, (_, index) => `bench-user-${index}`);
    const conversations = await Promise.all(users.map((userId) => active.createConversation(userId)));
    await Promise.all(
      users.map(async (userId, index) => {
        for (let turn = 0; turn < warmUpTurns; turn++) await active.turn(userId, conversations[index]!, content);
      }),
    );

    const latencies: number[] = [];
    // Only the measured window: startup, migrations and warm-up would drown the turns' own costs.
    const profile = profileDirectory === undefined ? undefined : await startProfiling();
    const databaseName = database.name ?? '';
    const postgresBefore = backend === 'postgres' ? postgresCpuSnapshot(databaseName) : undefined;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      users.map(async (userId, index) => {
        while (performance.now() < end) {
          const turnStarted = performance.now();
          await active.turn(userId, conversations[index]!, content);
          latencies.push(performance.now() - turnStarted);
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const postgres = postgresBefore === undefined ? undefined : postgresCpuMsSince(postgresBefore, databaseName);
    await profile?.stop(path.join(profileDirectory!, `${implementation}-${backend}-${roundNumber}.cpuprofile`));
    const latency = summarize(latencies);
    return {
      backend,
      implementation,
      round: roundNumber,
      turns: latencies.length,
      turnsPerSecond: round((latencies.length * 1000) / elapsedMs, 0),
      turnP50Ms: round(latency.p50),
      turnP99Ms: round(latency.p99),
      cpuMsPerTurn: round((cpu.user + cpu.system) / 1000 / latencies.length, 3),
      databaseCpuMsPerTurn: postgres?.visible ? round(postgres.ms / latencies.length, 3) : null,
    };
  } finally {
    await runner?.close().catch(() => undefined);
    if (database.name !== undefined) await waitForDisconnects(database.name);
    await database.drop();
  }
}

/**
 * pg's pool.end() resolves before its connections have closed; dropping the
 * database (WITH FORCE) then kills them mid-goodbye and the pool, with no
 * error listener left, crashes the process. Wait for them to go first.
 */
async function waitForDisconnects(databaseName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminPostgresUrl });
  await admin.connect();
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const { rows } = await admin.query<{ count: number }>('select count(*)::int as count from pg_stat_activity where datname = $1', [
        databaseName,
      ]);
      if (rows[0]?.count === 0) return;
      await sleep(50);
    }
  } finally {
    await admin.end();
  }
}

const results: RunResult[] = [];
const skipped: string[] = [];
for (const backend of ['sqlite', 'postgres'] as const) {
  for (let roundNumber = 1; roundNumber <= rounds; roundNumber++) {
    // Alternating which side goes first evens out drift (caches, autovacuum, the page cache).
    const order: Implementation[] = roundNumber % 2 === 1 ? ['bare', 'parley'] : ['parley', 'bare'];
    for (const implementation of order) {
      if (only !== undefined && !only.includes(`${implementation}-${backend}`)) continue;
      try {
        results.push(await run(backend, implementation, roundNumber));
      } catch (error) {
        // Only an unreachable Postgres is skipped (CI without the service); anything else is a failure.
        if (backend !== 'postgres' || !isConnectionError(error)) throw error;
        skipped.push(`${implementation}-${backend}: ${String(error)}`);
      }
    }
  }
}

function isConnectionError(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code) || /timeout|ECONNREFUSED/i.test(String(error));
}

printTable(
  `Stored turns per second, ${loops} concurrent turn loops, ${seconds} s per run (turn = read 20 messages, store user message, store reply, add usage)`,
  results.map((result) => ({
    backend: result.backend,
    store: result.implementation === 'parley' ? "Parley's store" : 'bare driver',
    round: result.round,
    turns: result.turns,
    'turns/s': result.turnsPerSecond,
    'turn p50 ms': result.turnP50Ms,
    'turn p99 ms': result.turnP99Ms,
    'bench CPU ms/turn': result.cpuMsPerTurn,
    'Postgres CPU ms/turn': result.databaseCpuMsPerTurn ?? '',
  })),
);

const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length);
const summary = (['sqlite', 'postgres'] as const).flatMap((backend) => {
  const of = (implementation: Implementation) =>
    mean(
      results
        .filter((result) => result.backend === backend && result.implementation === implementation)
        .map((result) => result.turnsPerSecond),
    );
  const parley = of('parley');
  const bare = of('bare');
  if (Number.isNaN(parley) && Number.isNaN(bare)) return [];
  return [{ backend, parleyTurnsPerSecond: round(parley, 0), bareTurnsPerSecond: round(bare, 0), parleyOverBare: round(parley / bare, 3) }];
});
printTable(
  'Mean over rounds (target: ≥1,000 turns/s and ≥85% of the bare driver)',
  summary.map((row) => ({
    backend: row.backend,
    "Parley's store turns/s": row.parleyTurnsPerSecond,
    'bare driver turns/s': row.bareTurnsPerSecond,
    'Parley / bare': row.parleyOverBare,
  })),
);
for (const line of skipped) console.log(`skipped ${line}`);
printJsonLine('store', { loops, seconds, rounds, historyLimit: 20, runs: results, summary, skipped });
