/**
 * Detached turns: what a turn whose client left costs while it goes on
 * generating for TURN_DETACH_SECONDS (heap per turn, measured after a full
 * GC), and what an ended turn kept for late resumes costs. Parley runs in
 * this process (so its heap can be measured), on SQLite, against the fake
 * upstream in a process of its own; clients are seed 003 SSE streams that
 * read their first event and drop.
 *
 *   npx tsx bench/detached-turns.ts [--tiny] [--turns=500]
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { createApp } from '../src/app/app.js';
import { loadConfig } from '../src/config/config.js';
import { argValue } from './lib/bench-args.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { tempSqlite } from './lib/temp-database.js';
import { startFakeUpstream, stopAll } from './lib/upstream-processes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const tiny = isTiny();
const turns = Number(argValue('turns') ?? (tiny ? 20 : 500));
/** Long and slow enough that no turn ends while measured: 2,000 tokens, 20 ms apart. */
const reply = Array.from({ length: 2000 }, (_, index) => `w${index % 100}`).join(' ');
const tokenDelayMs = 20;

const fake = await startFakeUpstream({ reply, tokenDelayMs });
const database = await tempSqlite();
const config = loadConfig({
  PORT: '0',
  LOG_LEVEL: 'silent',
  DATABASE_URL: database.url,
  OPENAI_API_KEY: 'sk-bench',
  OPENAI_BASE_URL: `${fake.url}/v1`,
  TURN_DETACH_SECONDS: '600',
  RATE_LIMIT_STREAM_V2_ANONYMOUS: '0/60',
  MAX_CONCURRENT_TURNS_PER_USER: '0',
  TOKEN_BUDGET_LIFETIME: '0',
  SHUTDOWN_GRACE_MS: '0',
});
const app = await createApp(config, { logger: pino({ level: 'silent' }) });
await app.server.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.server.address();
const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';

try {
  const heapBefore = settledHeap();
  for (let i = 0; i < turns; i++) await startAndDrop();
  // Every turn runs on with nobody reading it.
  await waitFor(() => app.engine.activeTurnCount === turns);
  const heapDetached = settledHeap();
  const rows = [
    {
      turns,
      'heap before MB': mb(heapBefore),
      'heap with detached turns MB': mb(heapDetached),
      'KB per detached turn': round((heapDetached - heapBefore) / turns / 1024),
    },
  ];
  printTable(`detached turns: ${turns} seed 003 SSE turns whose clients left after the first event, still generating`, rows);
  printJsonLine('detached-turns', { turns, tokenDelayMs, kbPerDetachedTurn: rows[0]!['KB per detached turn'] });
} finally {
  await app.close();
  await stopAll([fake]);
  await database.drop();
}

async function startAndDrop(): Promise<void> {
  const client = new AbortController();
  const response = await fetch(`${url}/api/v2/ai/chat/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'Tell me something long.' }),
    signal: client.signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  client.abort();
}

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('detached turns did not all start within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function mb(bytes: number): number {
  return round(bytes / 1024 / 1024);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
