/**
 * Relay: streaming chat completions (`POST /v1/chat/completions`, stream
 * with usage) through Parley, through a plain byte-piping proxy (the
 * physical limit), through the Portkey gateway (the peer a user would pick
 * instead; `--no-peer` leaves it out) and directly to the fake upstream,
 * alternating, at several concurrencies and token delays. Parley stores
 * every turn (SQLite).
 *
 *   npx tsx bench/relay.ts [--tiny] [--concurrency=1,50,200] [--delay=0,20] [--rounds=3]
 *   npx tsx bench/relay.ts --turn-log [--concurrency=1,50] ...
 *     (adds, side by side, resumable turns (X-Parley-Resumable: an id line per
 *     event) and a second Parley with REDIS_URL mirroring every turn to Redis Streams)
 *   npx tsx bench/relay.ts --model-apis [--concurrency=1,50] ...
 *     (adds, side by side, parley-messages: the same reply streamed through
 *     Parley's POST /v1/messages (Anthropic Messages API, model gpt-4o-mini,
 *     translated to the OpenAI upstream); and a tool-call stream:
 *     parley-tools, proxy-tools and direct-tools send /v1/chat/completions
 *     with a tool offered and a user message of as many marked words as the
 *     reply has tokens, which the fake echoes as that many tool-argument
 *     fragments; the tool rows are compared with direct-tools and proxy-tools)
 *   npx tsx bench/relay.ts --metrics-off [--concurrency=1,50,200] ...
 *     (adds, side by side, parley-metrics-off: a second Parley with METRICS=false,
 *     and prints Parley's CPU per 1k tokens with metrics on over off; issue 16's
 *     budget is within 3%)
 *   npx tsx bench/relay.ts --concurrency=200 --delay=20 --trace-stalls[=20]
 *     (Parley runs under --cpu-prof; after each delay's phase, every stretch
 *     over 20 ms in which its event loop never went idle is printed with what
 *     ran in it: bench/lib/profile-stalls.ts; one concurrency per run keeps
 *     the stalls apart)
 *   npx tsx bench/relay.ts --concurrency=200 --delay=0 --profile-dir=/tmp/parley-prof
 *     (Parley and the byte proxy run with --cpu-prof; summarize with bench/lib/summarize-profile.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchEventLoop } from './lib/event-loop-delay.js';
import { runAlternating, streamRunPlan, type RunPlan } from './lib/alternating-runs.js';
import { argNumbers, argValue } from './lib/bench-args.js';
import { startParley, type ParleyProcess } from './lib/parley-process.js';
import { relayRows, relayTableRows, type RelayRow } from './lib/relay-report.js';
import { printStallReport, stallReport, traceStallsThreshold } from './lib/profile-stalls.js';
import { installedPortkeyVersions, peerWanted, startPortkeyTarget } from './lib/portkey-gateway.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { anthropicMessagesTarget, openaiStreamTarget, openaiToolsStreamTarget } from './lib/stream-targets.js';
import { tempSqlite, type TempDatabase } from './lib/temp-database.js';
import { benchReply } from './lib/token-meter.js';
import { redisTestPrefix } from '../test/support/redis-test-prefix.js';
import { redisUrl } from '../test/support/services.js';
import { startByteProxy, startFakeUpstream, stopAll, type UrlProcess } from './lib/upstream-processes.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const tiny = isTiny();
const size = {
  concurrencies: argNumbers('concurrency', tiny ? [1, 3] : [1, 50, 200]),
  delays: argNumbers('delay', tiny ? [0, 5] : [0, 20]),
  replyTokens: tiny ? 20 : 200,
  rounds: Number(argValue('rounds') ?? (tiny ? 1 : 3)),
};
const profileDir = argValue('profile-dir');
const turnLog = process.argv.includes('--turn-log');
const modelApis = process.argv.includes('--model-apis');
const metricsOff = process.argv.includes('--metrics-off');
const stallThresholdMs = traceStallsThreshold();

function plan(concurrency: number, delayMs: number, rounds = size.rounds): RunPlan {
  // Two streams per client at 1 client and 20 ms, so TTFT has more than one sample per round.
  const minStreamsPerClient = !tiny && delayMs !== 0 && concurrency === 1 ? 2 : 1;
  return streamRunPlan({ concurrency, delayMs, rounds, tiny, expectedTokens: size.replyTokens, minStreamsPerClient });
}

const rows: RelayRow[] = [];
for (const delayMs of size.delays) rows.push(...(await runPhase(delayMs)));

printTable(
  `relay: POST /v1/chat/completions${modelApis ? ' (and /v1/messages; *-tools: tool-call streams, over direct-tools)' : ''}, ${size.replyTokens}-token replies, ${size.rounds} alternating rounds; ms; +ttft over direct; cpu of the relay process`,
  relayTableRows(rows),
);
printJsonLine('relay', {
  machine: { cpus: cpus().length, node: process.version },
  replyTokens: size.replyTokens,
  rounds: size.rounds,
  persistence: 'sqlite',
  modelApis,
  ...(peerWanted && { portkey: installedPortkeyVersions() }),
  rows,
});
if (metricsOff) printMetricsCost(rows);

/** Parley's CPU per 1k tokens with metrics on, over the same with METRICS=false, per cell. */
function printMetricsCost(all: RelayRow[]): void {
  const cells = all.filter((row) => row.via === 'parley');
  const table = cells.map((on) => {
    const off = all.find((row) => row.via === 'parley-metrics-off' && row.concurrency === on.concurrency && row.delayMs === on.delayMs);
    const ratio = on.cpuMsPer1kTokens === null || off?.cpuMsPer1kTokens == null ? null : on.cpuMsPer1kTokens / off.cpuMsPer1kTokens;
    return {
      clients: on.concurrency,
      delayMs: on.delayMs,
      cpuOn: on.cpuMsPer1kTokens ?? '-',
      cpuOff: off?.cpuMsPer1kTokens ?? '-',
      onOverOff: ratio === null ? '-' : Math.round(ratio * 1000) / 1000,
    };
  });
  printTable('metrics cost: Parley CPU ms per 1k tokens, metrics on (default) and METRICS=false', table);
  printJsonLine('relay-metrics-cost', { rows: table });
}

/** One fake upstream per token delay, with its own proxy and Parley in front. */
async function runPhase(delayMs: number): Promise<RelayRow[]> {
  let fake: UrlProcess | undefined;
  let proxy: UrlProcess | undefined;
  let parley: ParleyProcess | undefined;
  let redisParley: ParleyProcess | undefined;
  let quietParley: ParleyProcess | undefined;
  let portkey: UrlProcess | undefined;
  let quietDatabase: TempDatabase | undefined;
  let database: TempDatabase | undefined;
  let redisDatabase: TempDatabase | undefined;
  const redis = turnLog ? redisTestPrefix() : undefined;
  const stallDir = stallThresholdMs === undefined ? undefined : mkdtempSync(join(tmpdir(), 'parley-stalls-'));
  try {
    fake = await startFakeUpstream({ reply: benchReply(size.replyTokens), tokenDelayMs: delayMs, firstTokenDelayMs: 0, usage: true });
    const profiled = profileDir === undefined ? undefined : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    proxy = await startByteProxy(fake.url, profiled);
    database = await tempSqlite();
    const parleyProfiled = stallDir === undefined ? profiled : ['--cpu-prof', `--cpu-prof-dir=${stallDir}`];
    parley = await startParley({
      databaseUrl: database.url,
      openaiBaseUrl: `${fake.url}/v1`,
      ...(parleyProfiled && { nodeArgs: parleyProfiled }),
    });
    const targets = [
      watchEventLoop(openaiStreamTarget('parley', parley.pid, parley.url), parley.url),
      openaiStreamTarget('proxy', proxy.pid, proxy.url),
      openaiStreamTarget('direct', undefined, fake.url),
    ];
    if (peerWanted) {
      const peer = await startPortkeyTarget(fake.url);
      portkey = peer.gateway;
      targets.push(peer.target);
    }
    if (modelApis) {
      const userText = benchReply(size.replyTokens);
      targets.push(
        watchEventLoop(anthropicMessagesTarget('parley-messages', parley.pid, parley.url), parley.url),
        watchEventLoop(openaiToolsStreamTarget('parley-tools', parley.pid, parley.url, userText), parley.url),
        openaiToolsStreamTarget('proxy-tools', proxy.pid, proxy.url, userText),
        openaiToolsStreamTarget('direct-tools', undefined, fake.url, userText),
      );
    }
    if (metricsOff) {
      quietDatabase = await tempSqlite();
      quietParley = await startParley({ databaseUrl: quietDatabase.url, openaiBaseUrl: `${fake.url}/v1`, env: { METRICS: 'false' } });
      targets.push(openaiStreamTarget('parley-metrics-off', quietParley.pid, quietParley.url));
    }
    if (redis !== undefined) {
      redisDatabase = await tempSqlite();
      redisParley = await startParley({
        databaseUrl: redisDatabase.url,
        openaiBaseUrl: `${fake.url}/v1`,
        env: {
          REDIS_URL: redisUrl(),
          TURN_REDIS_PREFIX: redis.prefix,
          RATE_LIMIT_REDIS_PREFIX: `${redis.prefix}:rate`,
          JOB_QUEUE_PREFIX: redis.prefix,
        },
      });
      targets.push(
        watchEventLoop(openaiStreamTarget('parley-resumable', parley.pid, parley.url, { 'x-parley-resumable': 'true' }), parley.url),
        watchEventLoop(openaiStreamTarget('parley-redis', redisParley.pid, redisParley.url), redisParley.url),
      );
    }
    // JIT and connection pools warm before anything counts; all targets at once to save time.
    await Promise.all(
      targets.map((target) => runAlternating([target], { ...plan(tiny ? 2 : 20, delayMs, 1) }, `relay warm-up d=${delayMs}`)),
    );
    const phaseRows: RelayRow[] = [];
    for (const concurrency of size.concurrencies) {
      const results = await runAlternating(targets, plan(concurrency, delayMs), `relay c=${concurrency} d=${delayMs}`);
      // Tool-call streams are their own baseline: each group is compared with its own direct and proxy.
      const isTools = (result: (typeof results)[number]) => result.target.endsWith('-tools');
      phaseRows.push(...relayRows({ concurrency, delayMs, results: results.filter((result) => !isTools(result)) }, 'direct', 'proxy'));
      if (modelApis)
        phaseRows.push(...relayRows({ concurrency, delayMs, results: results.filter(isTools) }, 'direct-tools', 'proxy-tools'));
    }
    return phaseRows;
  } finally {
    await stopAll([fake, proxy, portkey, parley, redisParley, quietParley]);
    if (stallDir !== undefined) {
      // A phase that failed may have left no profile; its own error is the one to see.
      try {
        printStallReport(stallReport(stallDir, stallThresholdMs!), stallThresholdMs!);
      } catch (error) {
        console.error(`no stall report: ${(error as Error).message}`);
      }
      rmSync(stallDir, { recursive: true, force: true });
    }
    await quietDatabase?.drop();
    await database?.drop();
    await redisDatabase?.drop();
    await redis?.remove();
  }
}
