/**
 * Surfaces: the relay measurement through Parley's seed surfaces, with
 * every turn stored, on SQLite and on Postgres: seed 003's SSE
 * (`POST /api/v2/ai/chat/stream`) and seed 001's Socket.IO chat (`/ai`,
 * `chat:start`). The byte proxy, the Portkey gateway (the peer; `--no-peer`
 * leaves it out) and the direct path run in the same alternating rounds, so
 * the ratios compare like with like.
 *
 *   npx tsx bench/surfaces.ts [--tiny] [--concurrency=1,50,200] [--delay=0,20] [--rounds=2] [--databases=sqlite,postgres]
 *     [--profile-dir=<dir>]  (each Parley runs with --cpu-prof; summarize with bench/lib/summarize-profile.ts)
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { watchEventLoop } from './lib/event-loop-delay.js';
import { runAlternating, streamRunPlan, type RunPlan } from './lib/alternating-runs.js';
import { argNumbers, argValue } from './lib/bench-args.js';
import { startParley, type ParleyProcess } from './lib/parley-process.js';
import { relayRows, relayTableRows, type RelayRow } from './lib/relay-report.js';
import { installedPortkeyVersions, peerWanted, startPortkeyTarget } from './lib/portkey-gateway.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { aiNamespaceChatTarget, openaiStreamTarget, streamV2SseTarget, type StreamTarget } from './lib/stream-targets.js';
import { tempDatabase, type TempDatabase } from './lib/temp-database.js';
import { benchReply } from './lib/token-meter.js';
import { startByteProxy, startFakeUpstream, stopAll, type UrlProcess } from './lib/upstream-processes.js';
import type { RunningProcess } from './lib/child-process.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const tiny = isTiny();
const size = {
  concurrencies: argNumbers('concurrency', tiny ? [1, 3] : [1, 50, 200]),
  delays: argNumbers('delay', tiny ? [0, 5] : [0, 20]),
  replyTokens: tiny ? 20 : 200,
  rounds: Number(argValue('rounds') ?? (tiny ? 1 : 2)),
};
const databases = (argValue('databases') ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const profileDir = argValue('profile-dir');

function plan(concurrency: number, delayMs: number, rounds = size.rounds): RunPlan {
  // One 4 s stream per client at 20 ms keeps the whole run under 5 minutes; 0 ms gives TTFT its samples.
  return streamRunPlan({ concurrency, delayMs, rounds, tiny, expectedTokens: size.replyTokens, minStreamsPerClient: 1 });
}

const rows: RelayRow[] = [];
for (const delayMs of size.delays) rows.push(...(await runPhase(delayMs)));

printTable(
  `surfaces: seed 003 SSE and seed 001 Socket.IO, turns stored; ${size.replyTokens}-token replies, ${size.rounds} alternating rounds; ms; +ttft over direct; cpu of the relay process`,
  relayTableRows(rows),
);
printJsonLine('surfaces', {
  machine: { cpus: cpus().length, node: process.version },
  replyTokens: size.replyTokens,
  rounds: size.rounds,
  ...(peerWanted && { portkey: installedPortkeyVersions() }),
  rows,
});

async function runPhase(delayMs: number): Promise<RelayRow[]> {
  const processes: RunningProcess[] = [];
  const temps: TempDatabase[] = [];
  try {
    const fake: UrlProcess = await startFakeUpstream({
      reply: benchReply(size.replyTokens),
      tokenDelayMs: delayMs,
      firstTokenDelayMs: 0,
      usage: true,
    });
    processes.push(fake);
    const proxy = await startByteProxy(fake.url);
    processes.push(proxy);
    const targets: StreamTarget[] = [openaiStreamTarget('proxy', proxy.pid, proxy.url), openaiStreamTarget('direct', undefined, fake.url)];
    if (peerWanted) {
      const peer = await startPortkeyTarget(fake.url);
      processes.push(peer.gateway);
      targets.push(peer.target);
    }
    for (const kind of databases) {
      const database = await tempDatabase(kind);
      temps.push(database);
      const parley: ParleyProcess = await startParley({
        databaseUrl: database.url,
        openaiBaseUrl: `${fake.url}/v1`,
        ...(profileDir !== undefined && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${kind}`] }),
      });
      processes.push(parley);
      // Postgres does its work in its own processes: count them too, as SQLite's is inside Parley's.
      const db = { postgresDatabase: database.name };
      targets.push(
        watchEventLoop({ ...streamV2SseTarget(`sse ${kind}`, parley.pid, parley.url), ...db }, parley.url),
        watchEventLoop({ ...aiNamespaceChatTarget(`socket ${kind}`, parley.pid, parley.url), ...db }, parley.url),
      );
    }
    await Promise.all(targets.map((target) => runAlternating([target], plan(tiny ? 2 : 20, delayMs, 1), `surfaces warm-up d=${delayMs}`)));
    const phaseRows: RelayRow[] = [];
    for (const concurrency of size.concurrencies) {
      const results = await runAlternating(targets, plan(concurrency, delayMs), `surfaces c=${concurrency} d=${delayMs}`);
      phaseRows.push(...relayRows({ concurrency, delayMs, results }, 'direct', 'proxy'));
    }
    return phaseRows;
  } finally {
    await stopAll(processes);
    for (const database of temps) await database.drop();
  }
}
