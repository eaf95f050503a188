/**
 * Soak: mixed clients on every surface (the OpenAI-compatible API and seeds
 * 000–004), with stops and reconnects, against one Parley for a given time.
 * Every window it prints turns, errors, latency p50/p99, and the Parley
 * process's RSS and open file descriptors. At the end it fails (exit 1) on
 * unbounded growth (memory or descriptors still climbing in the last third),
 * on any lost turn (a user message without its reply, a reply left
 * in progress, fewer stored turns than the server acknowledged), or on
 * errors. Not a test and not in `npm run bench`: it runs for as long as it
 * is told.
 *
 *   npx tsx bench/soak.ts [--minutes=30] [--window-seconds=60] [--clients=1] [--stop-share=0.2]
 *     [--database=sqlite|postgres] [--token-delay=10] [--reply-tokens=60]
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { argValue } from './lib/bench-args.js';
import { startParley } from './lib/parley-process.js';
import { processRssBytes } from './lib/process-cpu.js';
import { printTable } from './lib/report.js';
import { soakClients, SoakTally } from './lib/soak-clients.js';
import { growthVerdict, storedTurns } from './lib/soak-checks.js';
import { summarize } from './lib/stats.js';
import { tempDatabase } from './lib/temp-database.js';
import { benchReply } from './lib/token-meter.js';
import { startFakeUpstream, stopAll } from './lib/upstream-processes.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const minutes = Number(argValue('minutes') ?? 30);
const windowSeconds = Number(argValue('window-seconds') ?? 60);
const clientsPerSurface = Number(argValue('clients') ?? 1);
const stopShare = Number(argValue('stop-share') ?? 0.2);
const databaseKind = (argValue('database') ?? 'sqlite') as 'sqlite' | 'postgres';
const tokenDelayMs = Number(argValue('token-delay') ?? 10);
const replyTokens = Number(argValue('reply-tokens') ?? 60);

const database = await tempDatabase(databaseKind);
const fake = await startFakeUpstream({ reply: benchReply(replyTokens), tokenDelayMs });
const parley = await startParley({
  databaseUrl: database.url,
  openaiBaseUrl: `${fake.url}/v1`,
  env: { ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: fake.url, TEXT_TO_SPEECH: 'openai', SPEECH_TO_TEXT: 'openai' },
});

const openDescriptors = () => readdirSync(`/proc/${parley.pid}/fd`).length;
const tally = new SoakTally();
const deadline = Date.now() + minutes * 60_000;
const clients = Object.entries(soakClients).flatMap(([name, client]) =>
  Array.from({ length: clientsPerSurface }, (_, index) =>
    client({ url: parley.url, tally, stopShare, turnsPerConnection: 10, isRunning: () => Date.now() < deadline }, index).catch(
      (error: Error) => {
        tally.errorSamples.push(`${name} client crashed: ${error.message}`);
      },
    ),
  ),
);

interface WindowRow extends Record<string, string | number> {
  minute: number;
  complete: number;
  stopped: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rssMb: number;
  fds: number;
}
const windows: WindowRow[] = [];
const startedAt = Date.now();
const sampler = setInterval(() => {
  const { counts, latencies } = tally.takeWindow();
  const latency = summarize(latencies);
  const row: WindowRow = {
    minute: Math.round((Date.now() - startedAt) / 600) / 100,
    complete: counts.complete,
    stopped: counts.stopped,
    errors: counts.error,
    p50Ms: Math.round(latency.p50),
    p99Ms: Math.round(latency.p99),
    rssMb: Math.round(processRssBytes(parley.pid) / 1_048_576),
    fds: openDescriptors(),
  };
  windows.push(row);
  console.log(JSON.stringify(row));
}, windowSeconds * 1000);

await Promise.all(clients);
clearInterval(sampler);
// Let the last stopped turns end and their replies be stored.
await new Promise((resolve) => setTimeout(resolve, 3_000));
const stored = await storedTurns(database);
await stopAll([fake, parley]);
await database.drop();

const totals = windows.reduce(
  (sum, row) => ({ complete: sum.complete + row.complete, stopped: sum.stopped + row.stopped, errors: sum.errors + row.errors }),
  {
    complete: 0,
    stopped: 0,
    errors: 0,
  },
);
printTable(
  `soak: ${minutes} min, ${clientsPerSurface} client(s) on each of ${Object.keys(soakClients).length} surfaces, ${replyTokens}-token replies at ${tokenDelayMs} ms, ${Math.round(stopShare * 100)}% stopped, ${databaseKind}`,
  windows,
);
const growth = growthVerdict(windows.map((row) => ({ rssMb: row.rssMb, fds: row.fds })));
const problems = [
  ...growth.problems,
  ...(totals.errors > 0 ? [`${totals.errors} turns failed, e.g. ${tally.errorSamples.slice(0, 3).join(' | ')}`] : []),
  ...(stored.inProgress > 0 ? [`${stored.inProgress} replies left in progress`] : []),
  ...(stored.userMessages !== stored.replies ? [`${stored.userMessages} user messages but ${stored.replies} replies`] : []),
  ...(stored.userMessages < tally.acknowledged ? [`${tally.acknowledged} turns acknowledged but ${stored.userMessages} stored`] : []),
];
console.log(JSON.stringify({ totals, acknowledged: tally.acknowledged, stored, growth: growth.summary, problems }, null, 2));
if (problems.length > 0) {
  console.error(`soak FAILED:\n- ${problems.join('\n- ')}`);
  process.exitCode = 1;
} else console.log('soak passed: no lost turn, no error, no unbounded growth');
