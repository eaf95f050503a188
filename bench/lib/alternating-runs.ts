import { runClosedLoop } from './closed-loop.js';
import { combineDelays, type EventLoopDelay } from './event-loop-delay.js';
import { postgresCpuMsSince, postgresCpuSnapshot } from './postgres-cpu.js';
import { processCpuMs } from './process-cpu.js';
import type { StreamTarget } from './stream-targets.js';
import { TokenMeter } from './token-meter.js';

export interface TargetResult {
  target: string;
  meter: TokenMeter;
  /** CPU of the target's relay process over its runs; undefined when there is no relay (direct). */
  cpuMs: number | undefined;
  /** CPU of the Postgres server for the target's database, when it has one. */
  dbCpuMs: number | undefined;
  /** The relay's event-loop delay over its runs, for targets that watch it (Parley's). */
  eventLoop: EventLoopDelay | null;
}

export interface RunPlan {
  concurrency: number;
  durationMs: number;
  minStreamsPerClient: number;
  /** See runClosedLoop. */
  rampMs: number;
  /**
   * One unmeasured stream per client right before each measured round.
   * Servers close keep-alive connections idle for 5 s (while the other
   * targets run), and 200 clients reconnecting in the same millisecond
   * stall some connections for 0.5–1.2 s on this machine, whatever the
   * relay: a load-generator artefact, not steady state. Only for short
   * streams, where it costs little; long ones ramp up instead.
   */
  prewarm: boolean;
  rounds: number;
  expectedTokens: number;
  /** Count the streams with a gap between tokens over this (TokenMeter.stalledStreams). */
  stallMs?: number;
}

/**
 * Runs every target in turn, round after round (a, b, c, a, b, c, …), so
 * that drift in the machine's speed hits all of them alike, and sums each
 * target's samples and relay CPU over its rounds.
 */
export async function runAlternating(targets: StreamTarget[], plan: RunPlan, label: string): Promise<TargetResult[]> {
  const results = targets.map((target) => ({
    target: target.name,
    meter: new TokenMeter(plan.expectedTokens, plan.stallMs),
    cpuMs: target.pid === undefined ? undefined : 0,
    dbCpuMs: target.postgresDatabase === undefined ? undefined : 0,
    eventLoop: null as EventLoopDelay | null,
  }));
  const loopWindows = targets.map((): EventLoopDelay[] => []);
  for (const target of targets) await target.open(plan.concurrency);
  try {
    for (let round = 1; round <= plan.rounds; round++) {
      for (const [index, target] of targets.entries()) {
        const result = results[index]!;
        process.stderr.write(`${label} round ${round}/${plan.rounds} ${target.name}\n`);
        if (plan.prewarm) {
          const unmeasured = new TokenMeter();
          await runClosedLoop({ concurrency: plan.concurrency, durationMs: 0, stream: (client) => target.stream(client, unmeasured) });
        }
        await target.eventLoop?.start();
        const cpuBefore = target.pid === undefined ? 0 : processCpuMs(target.pid);
        const database = target.postgresDatabase;
        const dbBefore = database === undefined ? undefined : postgresCpuSnapshot(database);
        await runClosedLoop({
          concurrency: plan.concurrency,
          durationMs: plan.durationMs,
          minStreamsPerClient: plan.minStreamsPerClient,
          rampMs: plan.rampMs,
          stream: (client) => target.stream(client, result.meter),
          shouldStop: () => result.meter.errors > 20,
        });
        // Work a relay does right after the last byte (closing, bookkeeping) belongs to the run.
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (target.pid !== undefined) result.cpuMs! += processCpuMs(target.pid) - cpuBefore;
        if (dbBefore !== undefined) result.dbCpuMs! += postgresCpuMsSince(dbBefore, database!).ms;
        if (target.eventLoop !== undefined) loopWindows[index]!.push(await target.eventLoop.read());
        if (result.meter.errors > 20) throw new Error(`${target.name}: too many failed streams, first: ${result.meter.firstError}`);
      }
    }
  } finally {
    for (const target of targets) await target.close();
  }
  for (const [index, result] of results.entries()) result.eventLoop = combineDelays(loopWindows[index]!);
  return results;
}

/**
 * The usual plan: back-to-back tokens run for a fixed window; slow tokens run
 * whole streams (one stream of 200 tokens is 4 s at 20 ms), clients arriving
 * over the first second rather than all at once.
 */
export function streamRunPlan(options: {
  concurrency: number;
  delayMs: number;
  rounds: number;
  tiny: boolean;
  expectedTokens: number;
  minStreamsPerClient: number;
}): RunPlan {
  const fast = options.delayMs === 0;
  return {
    concurrency: options.concurrency,
    rounds: options.rounds,
    durationMs: options.tiny ? 200 : fast ? 1200 : 0,
    minStreamsPerClient: options.minStreamsPerClient,
    rampMs: fast || options.tiny ? 0 : 1000,
    prewarm: fast,
    expectedTokens: options.expectedTokens,
  };
}
