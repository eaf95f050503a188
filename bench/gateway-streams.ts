/**
 * Gateway streams: the streaming test published gateway comparisons use
 * (Bifrost's: 128 concurrent streams of 64 deltas, one every 20 ms), through
 * Parley (turns stored in SQLite), the byte proxy (the physical limit), the
 * Portkey gateway (the peer; `--no-peer` leaves it out) and directly,
 * alternating. Reports time to first token over direct and over the proxy,
 * and how many streams were served without a stall: no gap between two
 * deltas over 100 ms (`--stall-ms`).
 *
 *   npx tsx bench/gateway-streams.ts [--tiny] [--streams=128] [--deltas=64] [--delay=20] [--rounds=3] [--stall-ms=100]
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TargetResult } from './lib/alternating-runs.js';
import { runAlternating } from './lib/alternating-runs.js';
import { argValue } from './lib/bench-args.js';
import { watchEventLoop } from './lib/event-loop-delay.js';
import { startParley } from './lib/parley-process.js';
import { installedPortkeyVersions, peerWanted, startPortkeyTarget } from './lib/portkey-gateway.js';
import { relayRows } from './lib/relay-report.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { openaiStreamTarget, type StreamTarget } from './lib/stream-targets.js';
import { tempSqlite } from './lib/temp-database.js';
import { benchReply } from './lib/token-meter.js';
import { startByteProxy, startFakeUpstream, stopAll, type UrlProcess } from './lib/upstream-processes.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const tiny = isTiny();
const size = {
  streams: Number(argValue('streams') ?? (tiny ? 4 : 128)),
  deltas: Number(argValue('deltas') ?? (tiny ? 8 : 64)),
  delayMs: Number(argValue('delay') ?? 20),
  rounds: Number(argValue('rounds') ?? (tiny ? 1 : 3)),
  stallMs: Number(argValue('stall-ms') ?? 100),
};

const processes: (UrlProcess | undefined)[] = [];
const database = await tempSqlite();
let results: TargetResult[];
try {
  const fake = await startFakeUpstream({ reply: benchReply(size.deltas), tokenDelayMs: size.delayMs, firstTokenDelayMs: 0, usage: true });
  processes.push(fake);
  const proxy = await startByteProxy(fake.url);
  processes.push(proxy);
  const parley = await startParley({ databaseUrl: database.url, openaiBaseUrl: `${fake.url}/v1` });
  processes.push(parley);
  const targets: StreamTarget[] = [
    watchEventLoop(openaiStreamTarget('parley', parley.pid, parley.url), parley.url),
    openaiStreamTarget('proxy', proxy.pid, proxy.url),
    openaiStreamTarget('direct', undefined, fake.url),
  ];
  if (peerWanted) {
    const peer = await startPortkeyTarget(fake.url);
    processes.push(peer.gateway);
    targets.push(peer.target);
  }
  const plan = {
    concurrency: size.streams,
    // Each client streams once per round, all starting together, on connections opened just before.
    durationMs: 0,
    minStreamsPerClient: 1,
    rampMs: 0,
    prewarm: true,
    rounds: size.rounds,
    expectedTokens: size.deltas,
    stallMs: size.stallMs,
  };
  await runAlternating(targets, { ...plan, rounds: 1 }, 'gateway-streams warm-up');
  results = await runAlternating(targets, plan, `gateway-streams ${size.streams} streams`);
} finally {
  await stopAll(processes);
  await database.drop();
}

const rows = relayRows({ concurrency: size.streams, delayMs: size.delayMs, results }, 'direct', 'proxy').map((row) => {
  const { meter } = results.find((result) => result.target === row.via)!;
  return { ...row, unstalledStreams: meter.streams - meter.stalledStreams };
});
printTable(
  `gateway streams: ${size.streams} concurrent streams of ${size.deltas} deltas every ${size.delayMs} ms, ${size.rounds} alternating rounds; ms; unstalled: no gap over ${size.stallMs} ms`,
  rows.map((row) => ({
    via: row.via,
    streams: row.streams,
    errors: row.errors,
    unstalled: `${row.unstalledStreams}/${row.streams}`,
    'ttft p50': row.ttftP50,
    'ttft p99': row.ttftP99,
    '+ttft p99': row.via === 'direct' ? '-' : row.addedTtftP99,
    'ttft-proxy p99': row.vsProxy?.ttftOverProxyP99 ?? '-',
    'gap p99': row.gapP99,
    'cpu ms/1k tok': row.cpuMsPer1kTokens ?? '-',
    'x proxy cpu': row.vsProxy?.cpu ?? '-',
    'loop p99': row.eventLoop?.p99 ?? '-',
    'loop max': row.eventLoop?.max ?? '-',
  })),
);
printJsonLine('gateway-streams', {
  machine: { cpus: cpus().length, node: process.version },
  ...size,
  persistence: 'sqlite',
  ...(peerWanted && { portkey: installedPortkeyVersions() }),
  rows,
});
