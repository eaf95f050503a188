/**
 * Stop: time from a client's stop to the upstream connection closing, on
 * every surface that streams. The fake upstream runs in this process, so the
 * client's stop and the moment the fake sees its request's response close
 * share one clock; Parley runs in its own process, as always.
 *
 *   npx tsx bench/stop.ts [--tiny] [--trials=200]
 *   npx tsx bench/stop.ts --cross-instance [--trials=200]
 *     (two Parley processes on one Postgres and Redis: seed 003's stop
 *     endpoint sent to the instance running the turn and to the other one)
 */
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { FakeUpstream } from '../test/support/fake-upstream.js';
import { argValue } from './lib/bench-args.js';
import { startParley, type ParleyProcess } from './lib/parley-process.js';
import { isTiny, printJsonLine, printTable } from './lib/report.js';
import { round, summarize } from './lib/stats.js';
import { connect } from './lib/stream-targets.js';
import { tempPostgres, tempSqlite, type TempDatabase } from './lib/temp-database.js';
import { redisTestPrefix } from '../test/support/redis-test-prefix.js';
import { redisUrl } from '../test/support/services.js';
import { benchReply, countTokenMarks, countTokenMarksInText } from './lib/token-meter.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const tiny = isTiny();
const trials = Number(argValue('trials') ?? (tiny ? 3 : 200));
const warmupTrials = tiny ? 1 : 5;
const tokenDelayMs = 20;
const crossInstance = process.argv.includes('--cross-instance');

/** One stream on a surface: `begin` starts it and calls `firstToken` on its first token; `stop` is the client's stop. */
interface Trial {
  begin(firstToken: () => void): Promise<void>;
  stop(): void;
  /** Waits until the surface has settled after the stop (e.g. `chat:stopped`). */
  settle(): Promise<void>;
}

interface Surface {
  name: string;
  how: string;
  trial(): Promise<Trial>;
}

let fake: FakeUpstream | undefined;
let parley: ParleyProcess | undefined;
let other: ParleyProcess | undefined;
let database: TempDatabase | undefined;
const redis = crossInstance ? redisTestPrefix() : undefined;
const sockets: Socket[] = [];
try {
  // A reply far longer than any trial: the stream is always cut by the stop.
  fake = await FakeUpstream.start({ reply: benchReply(5000), tokenDelayMs, firstTokenDelayMs: 0 });
  database = crossInstance ? await tempPostgres() : await tempSqlite();
  const shared: Record<string, string> =
    redis === undefined
      ? {}
      : {
          REDIS_URL: redisUrl(),
          TURN_REDIS_PREFIX: redis.prefix,
          RATE_LIMIT_REDIS_PREFIX: `${redis.prefix}:rate`,
          JOB_QUEUE_PREFIX: redis.prefix,
        };
  const start = () =>
    startParley({
      databaseUrl: database!.url,
      openaiBaseUrl: fake!.openaiBaseUrl,
      // Aborting the fetch is the stop measured here: with the default detach time it would leave the turn running.
      env: { ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: fake!.anthropicBaseUrl, TURN_DETACH_SECONDS: '0', ...shared },
    });
  parley = await start();
  if (crossInstance) other = await start();
  const surfaces = other === undefined ? await buildSurfaces(parley.url) : stopEndpointSurfaces(parley.url, other.url);
  const rows = [];
  for (const surface of surfaces) {
    for (let i = 0; i < warmupTrials; i++) await timeStop(fake, surface);
    const samples: number[] = [];
    let failures = 0;
    let firstFailure: string | undefined;
    for (let i = 0; i < trials; i++) {
      try {
        samples.push(await timeStop(fake, surface));
      } catch (error) {
        failures++;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
    const summary = summarize(samples);
    rows.push({
      surface: surface.name,
      stop: surface.how,
      trials: summary.count,
      failures,
      p50: round(summary.p50),
      p99: round(summary.p99),
      max: round(summary.max),
      ...(firstFailure && { firstFailure }),
    });
  }
  printTable(
    `stop: client stop -> upstream connection closed (ms), ${tokenDelayMs} ms between tokens, stop at a random point after the first token`,
    rows.map(({ firstFailure: _, ...row }) => row),
  );
  for (const row of rows) if (row.firstFailure) console.log(`${row.surface}: first failure: ${row.firstFailure}`);
  printJsonLine('stop', { tokenDelayMs, trials, rows });
} finally {
  for (const socket of sockets) socket.disconnect();
  await parley?.stop();
  await other?.stop();
  await fake?.close();
  await database?.drop();
  await redis?.remove();
}

/** Seed 003's stop endpoint, sent to the instance running the turn and to another one (the stop then goes through Redis). */
function stopEndpointSurfaces(runningUrl: string, otherUrl: string): Surface[] {
  const surface = (name: string, stopUrl: string): Surface => ({
    name,
    how: 'POST …/stop',
    trial: async () => {
      const reading = fetchTrial(`${runningUrl}/api/v2/ai/chat/stream`, { message: 'Tell me something.', sessionId: 'stop-bench' });
      return {
        begin: (firstToken) => reading.begin(firstToken),
        stop: () => {
          void fetch(`${stopUrl}/api/v2/ai/chat/stream/${reading.turnId()}/stop`, {
            method: 'POST',
            headers: { authorization: 'Bearer sk-bench' },
          });
        },
        async settle() {
          reading.stop();
        },
      };
    },
  });
  return [surface('seed 003 SSE, stop on the same instance', runningUrl), surface('seed 003 SSE, stop on another instance', otherUrl)];
}

/**
 * Runs one trial: waits for the first token and a random part of a token
 * interval, stops, and times the fake's response 'close'. waitForAborts
 * resolves synchronously inside that 'close' listener, so its continuation
 * runs in the same tick: the timestamp is the close, to a few microseconds.
 */
async function timeStop(upstream: FakeUpstream, surface: Surface): Promise<number> {
  const trial = await surface.trial();
  let firstToken!: () => void;
  const gotToken = new Promise<void>((resolve) => (firstToken = resolve));
  try {
    await trial.begin(firstToken);
    await withTimeout(gotToken, 5000, `${surface.name}: no first token`);
  } catch (error) {
    // Cut the stream and let its abort land before the next trial counts aborts.
    trial.stop();
    await sleep(500);
    throw error;
  }
  await sleep(Math.random() * tokenDelayMs);
  let closedAt = 0;
  const closed = upstream.waitForAborts(upstream.abortedCount + 1, 5000).then(() => {
    closedAt = performance.now();
  });
  const stoppedAt = performance.now();
  trial.stop();
  await closed;
  await trial.settle();
  return closedAt - stoppedAt;
}

async function buildSurfaces(parleyUrl: string): Promise<Surface[]> {
  const ai = io(`${parleyUrl}/ai`, { transports: ['websocket'], reconnection: false, autoConnect: false });
  sockets.push(ai);
  await connect(ai);
  const session = await postJson(`${parleyUrl}/api/v1/chat/sessions`, { title: 'stop bench' });
  return [
    {
      name: 'openai /v1/chat/completions',
      how: 'abort fetch',
      trial: async () =>
        fetchTrial(`${parleyUrl}/v1/chat/completions`, {
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Tell me something.' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
    },
    {
      name: 'seed 003 SSE',
      how: 'abort fetch',
      trial: async () => fetchTrial(`${parleyUrl}/api/v2/ai/chat/stream`, { message: 'Tell me something.', sessionId: 'stop-bench' }),
    },
    {
      name: 'seed 003 socket ai:chat',
      how: 'disconnect',
      trial: async () => {
        const socket = io(parleyUrl, { transports: ['websocket'], reconnection: false, autoConnect: false });
        sockets.push(socket);
        await connect(socket);
        return {
          async begin(firstToken) {
            socket.on('ai:stream', (payload: { content: string }) => {
              if (countTokenMarksInText(payload.content) > 0) firstToken();
            });
            socket.emit('ai:chat', { message: 'Tell me something.', sessionId: 'stop-bench' });
          },
          stop: () => socket.disconnect(),
          async settle() {},
        };
      },
    },
    {
      name: 'seed 001 socket chat:start',
      how: 'chat:stop',
      trial: async () => {
        let stopped!: Promise<unknown>;
        const onMessage = (payload: { content: string }) => {
          if (countTokenMarksInText(payload.content) > 0) first?.();
        };
        let first: (() => void) | undefined;
        return {
          async begin(firstToken) {
            first = firstToken;
            ai.on('chat:message', onMessage);
            ai.emit('chat:start', { message: 'Tell me something.' });
          },
          stop() {
            stopped = new Promise((resolve) => ai.once('chat:stopped', resolve));
            ai.emit('chat:stop');
          },
          async settle() {
            await withTimeout(stopped, 5000, 'no chat:stopped');
            ai.off('chat:message', onMessage);
          },
        };
      },
    },
    {
      name: 'seed 002 SSE (Claude)',
      how: 'abort fetch',
      trial: async () =>
        fetchTrial(`${parleyUrl}/api/v1/chat/messages?stream=true`, { session_id: session.id, content: 'Tell me something.' }),
    },
  ];
}

/** A streamed POST whose stop is aborting the fetch; `turnId` is its X-Parley-Turn-Id once it began. */
function fetchTrial(url: string, body: unknown): Trial & { turnId(): string } {
  const controller = new AbortController();
  let turnId = '';
  return {
    turnId: () => turnId,
    async begin(firstToken) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
      turnId = response.headers.get('x-parley-turn-id') ?? '';
      const reader = response.body!.getReader();
      // Reads until the first token, in the background, then leaves the rest unread until the abort.
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          if (countTokenMarks(Buffer.from(value.buffer, value.byteOffset, value.byteLength)) > 0) return firstToken();
        }
      })().catch(() => {});
    },
    stop: () => controller.abort(),
    async settle() {},
  };
}

async function postJson(url: string, body: unknown): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms))),
  ]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
