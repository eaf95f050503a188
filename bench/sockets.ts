/**
 * Sockets: 10,000 idle Socket.IO clients (websocket transport) on Parley's
 * `/ai` namespace and on a bare Socket.IO server (bench/bare-socket-server.ts),
 * the server process's RSS before and after; then 1,000 of them streaming
 * 10 tokens a second each (Parley: seed 000's ai_request with stream: true,
 * the fake upstream sending a token every 100 ms; bare: the server pushing an
 * event every 100 ms), the inter-token gaps seen by the clients. The clients
 * live in forked socket-clients.ts processes so the generator does not starve.
 * Both servers are measured the same way: through tsx (which holds more for
 * Parley's many source files than for one), RSS after a few idle seconds, no
 * forced GC (Parley cannot be asked for one). Every client signs in to
 * Parley as a user of its own (a JWT per socket), as a thousand streams at
 * once would come from a thousand people; `--one-user` runs Parley in local
 * mode instead, where all streams share one user's assistant history and
 * each request reads (and sends upstream) up to ASSISTANT_HISTORY_LIMIT of it.
 *
 *   npx tsx bench/sockets.ts [--tiny] [--clients=10000] [--streams=1000] [--tokens=100] [--workers=2] [--stagger-ms=0.1]
 *     [--only=parley|bare] [--one-user] [--profile=<dir>]  (runs the servers with --cpu-prof: <dir>/parley, <dir>/bare)
 */
import { EventLoopWindow } from './lib/event-loop-delay.js';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { argValue } from './lib/bench-args.js';
import { startNodeProcess, type RunningProcess } from './lib/child-process.js';
import { startParley } from './lib/parley-process.js';
import { processCpuMs, processRssBytes } from './lib/process-cpu.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { startSocketClientWorkers, type SocketClientWorkers } from './lib/socket-client-workers.js';
import { round, summarize } from './lib/stats.js';
import { tempDatabase } from './lib/temp-database.js';
import { startFakeUpstream, stopAll } from './lib/upstream-processes.js';

const tiny = isTiny();
const clients = Number(argValue('clients') ?? (tiny ? 200 : 10_000));
const streams = Math.min(clients, Number(argValue('streams') ?? (tiny ? 20 : 1_000)));
const tokens = Number(argValue('tokens') ?? (tiny ? 10 : 100));
const workerCount = Number(argValue('workers') ?? 2);
const intervalMs = 100;
/** Requests spread over one token interval, so the servers' timers do not all fire in one tick. */
const staggerMs = Number(argValue('stagger-ms') ?? intervalMs / streams);
const idleMs = tiny ? 500 : 3_000;
const profileDirectory = argValue('profile');
const oneUser = process.argv.includes('--one-user');

interface Target {
  name: string;
  /** The server process whose RSS and CPU are read. */
  pid: number;
  /** Parley's fake upstream: its CPU share tells whether the upstream's pacing, not Parley, set the gaps. */
  upstreamPid?: number;
  socketUrl: string;
  mode: 'parley' | 'bare';
  /** Parley: each client signs in as a user of its own, so each stream has its own history. */
  jwtSecret?: string;
  /** Parley's event loop, whose delay is recorded over the streaming window. */
  eventLoop?: EventLoopWindow;
  cleanup: () => Promise<void>;
}

interface TargetResult {
  name: string;
  connected: number;
  connectFailures: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  deltaMb: number;
  kbPerConnection: number;
  streams: number;
  completed: number;
  failedStreams: number;
  chunks: number;
  gapP50Ms: number;
  gapP99Ms: number;
  gapMaxMs: number;
  addedP99Ms: number;
  /** Added p99 of the gaps in the middle 80% of each stream, away from the bursts of turns starting and ending. */
  midStreamAddedP99Ms: number;
  serverCpuMsPer1kTokens: number;
  /** Busiest generator process's CPU share during streaming: near 100% would mean the clients, not the server, set the gaps. */
  generatorCpuPercent: number;
  upstreamCpuPercent: number | null;
  /** The server's event-loop delay over the streaming window (Parley only), ms. */
  loopP50Ms: number | null;
  loopP99Ms: number | null;
  loopMaxMs: number | null;
  firstError?: string;
}

function requireOpenFiles(needed: number): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? Number.POSITIVE_INFINITY);
  if (soft < needed) {
    throw new Error(
      `This run needs about ${needed} open files per process but the limit is ${soft}: run it as \`bash -c 'ulimit -n 65536; npx tsx bench/sockets.ts'\``,
    );
  }
}

const benchJwtSecret = 'bench-sockets-secret-at-least-32-characters';
const reply = Array.from({ length: tokens }, () => 'word').join(' ');

async function startParleyTarget(): Promise<Target> {
  const database = await tempDatabase('sqlite');
  const processes: RunningProcess[] = [];
  try {
    const fake = await startFakeUpstream({ reply, tokenDelayMs: intervalMs });
    processes.push(fake);
    const parley = await startParley({
      databaseUrl: database.url,
      openaiBaseUrl: `${fake.url}/v1`,
      env: oneUser ? { MAX_CONCURRENT_TURNS_PER_USER: '0' } : { JWT_SECRET: benchJwtSecret },
      ...(profileDirectory && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}/parley`] }),
    });
    processes.push(parley);
    return {
      name: 'Parley /ai',
      pid: parley.pid,
      upstreamPid: fake.pid,
      socketUrl: `${parley.url}/ai`,
      mode: 'parley',
      eventLoop: new EventLoopWindow(`${parley.url}/metrics`),
      ...(!oneUser && { jwtSecret: benchJwtSecret }),
      cleanup: async () => {
        await stopAll(processes);
        await database.drop();
      },
    };
  } catch (error) {
    await stopAll(processes);
    await database.drop();
    throw error;
  }
}

async function startBareTarget(): Promise<Target> {
  const server = await startNodeProcess('bench/bare-socket-server.ts', {
    readyPattern: /^BARE_SOCKET_SERVER /,
    ...(profileDirectory && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}/bare`] }),
  });
  return {
    name: 'bare Socket.IO',
    pid: server.pid,
    socketUrl: server.readyLine.split(' ')[1]!.trim(),
    mode: 'bare',
    cleanup: () => stopAll([server]),
  };
}

/** RSS once it stops moving: sampled every second until two samples in a row differ by under 1 MB (at most 30 s). */
async function steadyRss(pid: number): Promise<number> {
  let previous = processRssBytes(pid);
  let steadySamples = 0;
  for (let sample = 0; sample < 30 && steadySamples < 2; sample++) {
    await sleep(1_000);
    const current = processRssBytes(pid);
    steadySamples = Math.abs(current - previous) < 1024 * 1024 ? steadySamples + 1 : 0;
    previous = current;
  }
  return previous;
}

async function measure(target: Target): Promise<TargetResult> {
  let workers: SocketClientWorkers | undefined;
  try {
    await sleep(idleMs);
    const rssBefore = await steadyRss(target.pid);
    workers = await startSocketClientWorkers(workerCount);
    const connected = await workers.connect(target.socketUrl, clients, 50, target.jwtSecret);
    if (connected.connected === 0) throw new Error(`no client connected to ${target.name}: ${connected.firstError}`);
    await sleep(idleMs);
    const rssAfter = await steadyRss(target.pid);

    const streamOptions = { mode: target.mode, tokens, intervalMs, staggerMs, timeoutMs: tokens * intervalMs + 60_000 };
    // Warm-up (JIT, the upstream connection pool, the database), not measured.
    if (!tiny) await workers.stream({ ...streamOptions, streams: Math.min(50, streams), staggerMs: 2 });
    await target.eventLoop?.start();
    const serverCpuBefore = processCpuMs(target.pid);
    const generatorCpuBefore = workers.pids.map(processCpuMs);
    const upstreamCpuBefore = target.upstreamPid === undefined ? 0 : processCpuMs(target.upstreamPid);
    const started = performance.now();
    const streamed = await workers.stream({ ...streamOptions, streams });
    const elapsedMs = performance.now() - started;
    const serverCpuMs = processCpuMs(target.pid) - serverCpuBefore;
    const generatorCpuPercent = Math.max(...workers.pids.map((pid, index) => processCpuMs(pid) - generatorCpuBefore[index]!)) / elapsedMs;
    const upstreamCpuMs = target.upstreamPid === undefined ? undefined : processCpuMs(target.upstreamPid) - upstreamCpuBefore;
    const loop = await target.eventLoop?.read();
    const gaps = summarize(streamed.gaps);
    const deltaBytes = rssAfter - rssBefore;
    return {
      name: target.name,
      connected: connected.connected,
      connectFailures: connected.failed,
      rssBeforeMb: round(rssBefore / 2 ** 20, 1),
      rssAfterMb: round(rssAfter / 2 ** 20, 1),
      deltaMb: round(deltaBytes / 2 ** 20, 1),
      kbPerConnection: round(deltaBytes / 1024 / connected.connected, 1),
      streams,
      completed: streamed.completed,
      failedStreams: streamed.failed,
      chunks: streamed.chunks,
      gapP50Ms: round(gaps.p50),
      gapP99Ms: round(gaps.p99),
      gapMaxMs: round(gaps.max),
      addedP99Ms: round(gaps.p99 - intervalMs),
      midStreamAddedP99Ms: round(summarize(streamed.midStreamGaps).p99 - intervalMs),
      serverCpuMsPer1kTokens: round((serverCpuMs * 1000) / Math.max(streamed.chunks, 1)),
      generatorCpuPercent: round(generatorCpuPercent * 100, 0),
      upstreamCpuPercent: upstreamCpuMs === undefined ? null : round((upstreamCpuMs * 100) / elapsedMs, 0),
      loopP50Ms: loop === undefined ? null : round(loop.p50, 1),
      loopP99Ms: loop === undefined ? null : round(loop.p99, 1),
      loopMaxMs: loop === undefined ? null : round(loop.max, 1),
      ...((streamed.firstError ?? connected.firstError) && { firstError: streamed.firstError ?? connected.firstError }),
    };
  } finally {
    await workers?.close();
  }
}

requireOpenFiles(clients + streams + 500);
const results: TargetResult[] = [];
const only = argValue('only');
const starts = [
  { key: 'parley', start: startParleyTarget },
  { key: 'bare', start: startBareTarget },
].filter(({ key }) => only === undefined || only === key);
for (const { start } of starts) {
  const target = await start();
  try {
    results.push(await measure(target));
  } finally {
    await target.cleanup();
  }
}

const parley = results.find((result) => result.name === 'Parley /ai');
const bare = results.find((result) => result.name === 'bare Socket.IO');
const ratio = (value: number | undefined, base: number | undefined) =>
  value === undefined || base === undefined ? null : round(value / base, 3);
printTable(
  `Idle sockets: ${clients} Socket.IO clients (websocket), server RSS (target: Parley within 1.5x of bare)`,
  results.map((result) => ({
    server: result.name,
    connected: result.connected,
    failed: result.connectFailures,
    'RSS before MB': result.rssBeforeMb,
    'RSS after MB': result.rssAfterMb,
    'added MB': result.deltaMb,
    'KB per connection': result.kbPerConnection,
    'RSS after vs bare': ratio(result.rssAfterMb, bare?.rssAfterMb) ?? '',
    'added vs bare': ratio(result.deltaMb, bare?.deltaMb) ?? '',
  })),
);
printTable(
  `Streaming: ${streams} of them, ${tokens} tokens each, one every ${intervalMs} ms (target: Parley's added p99 under 50 ms)`,
  results.map((result) => ({
    server: result.name,
    'completed/streams': `${result.completed}/${result.streams}`,
    chunks: `${result.chunks}/${result.streams * tokens}`,
    'gap p50 ms': result.gapP50Ms,
    'gap p99 ms': result.gapP99Ms,
    'gap max ms': result.gapMaxMs,
    'added p99 ms': result.addedP99Ms,
    'added p99 mid-stream ms': result.midStreamAddedP99Ms,
    'server CPU ms/1k tokens': result.serverCpuMsPer1kTokens,
    'generator CPU %': result.generatorCpuPercent,
    'upstream CPU %': result.upstreamCpuPercent ?? '',
    'loop p50 ms': result.loopP50Ms ?? '',
    'loop p99 ms': result.loopP99Ms ?? '',
    'loop max ms': result.loopMaxMs ?? '',
  })),
);
for (const result of results) if (result.firstError) console.log(`${result.name}: first error: ${result.firstError}`);
printJsonLine('sockets', {
  clients,
  parleyUsers: oneUser ? 'one local user' : 'one per client',
  streams,
  tokens,
  intervalMs,
  results,
  ratios: {
    rssAfter: ratio(parley?.rssAfterMb, bare?.rssAfterMb),
    rssAdded: ratio(parley?.deltaMb, bare?.deltaMb),
    addedP99: ratio(parley?.addedP99Ms, bare?.addedP99Ms),
  },
});
