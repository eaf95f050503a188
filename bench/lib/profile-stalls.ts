/**
 * What ran while a Parley's event loop was stalled: in a V8 CPU profile the
 * thread is `(idle)` while the loop waits for I/O, so every run of busy
 * samples longer than the threshold is one loop iteration (or a chain of
 * them with no wait between) that delayed every timer and socket behind it.
 * For each such stall: its length, the functions with the most self time in
 * it, and Parley's own functions (src/) on the stack longest, which name the
 * turn phase (auth, history read, message write, provider connect, relay,
 * reply write). Used by the benches' --trace-stalls.
 */
import { readFileSync } from 'node:fs';
import { frameName, newestProfile, shortUrl, type CpuProfile, type ProfileNode } from './cpu-profile.js';
import { round } from './stats.js';

export interface Stall {
  /** Since the profile started. */
  atMs: number;
  durationMs: number;
  /** The busiest functions by self time in the stall, `name file:line (ms)`. */
  topSelf: string[];
  /** Parley's functions on the stack longest in the stall. */
  topParley: string[];
}

export interface StallReport {
  file: string;
  profiledMs: number;
  busyMs: number;
  stalls: Stall[];
  /** Over every stall together. */
  overall: { stallMs: number; topSelf: string[]; topParley: string[] };
}

export function stallReport(fileOrDirectory: string, thresholdMs: number, top = 4): StallReport {
  const file = fileOrDirectory.endsWith('.cpuprofile') ? fileOrDirectory : newestProfile(fileOrDirectory);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  // Each node's Parley frames on its stack, computed once per node rather than per sample.
  const parleyStacks = new Map<number, ProfileNode[]>();
  const parleyStack = (id: number): ProfileNode[] => {
    let stack = parleyStacks.get(id);
    if (stack !== undefined) return stack;
    stack = [];
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const node = nodes.get(at)!;
      if (shortUrl(node.callFrame.url).startsWith('src/')) stack.push(node);
    }
    parleyStacks.set(id, stack);
    return stack;
  };

  const stalls: Stall[] = [];
  const overallSelf = new Map<string, number>();
  const overallParley = new Map<string, number>();
  let time = 0;
  let busyUs = 0;
  let run: { startUs: number; samples: [id: number, us: number][] } | undefined;
  const endRun = () => {
    if (run === undefined) return;
    const durationUs = run.samples.reduce((sum, [, us]) => sum + us, 0);
    if (durationUs >= thresholdMs * 1000) {
      const self = new Map<string, number>();
      const parley = new Map<string, number>();
      for (const [id, us] of run.samples) {
        add(self, frameName(nodes.get(id)!), us);
        // A recursive function counts once per sample.
        for (const name of new Set(parleyStack(id).map(frameName))) add(parley, name, us);
      }
      for (const [name, us] of self) add(overallSelf, name, us);
      for (const [name, us] of parley) add(overallParley, name, us);
      stalls.push({
        atMs: round(run.startUs / 1000, 0),
        durationMs: round(durationUs / 1000, 1),
        topSelf: ranked(self, top),
        topParley: ranked(parley, top),
      });
    }
    run = undefined;
  };
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    time += us;
    if (idle.has(id)) return endRun();
    busyUs += us;
    run ??= { startUs: time - us, samples: [] };
    run.samples.push([id, us]);
  });
  endRun();
  return {
    file,
    profiledMs: round(time / 1000, 0),
    busyMs: round(busyUs / 1000, 0),
    stalls,
    overall: {
      stallMs: round(
        stalls.reduce((sum, stall) => sum + stall.durationMs, 0),
        0,
      ),
      topSelf: ranked(overallSelf, top * 2),
      topParley: ranked(overallParley, top * 2),
    },
  };
}

/** Prints the longest stalls and the totals. */
export function printStallReport(report: StallReport, thresholdMs: number, shown = 10): void {
  const { stalls } = report;
  console.log(
    `\n## stalls over ${thresholdMs} ms in ${report.file}: ${stalls.length} stalls, ${report.overall.stallMs} ms of ${report.busyMs} ms busy (${report.profiledMs} ms profiled)`,
  );
  for (const stall of [...stalls].sort((a, b) => b.durationMs - a.durationMs).slice(0, shown)) {
    console.log(`- at ${stall.atMs} ms, ${stall.durationMs} ms: ${stall.topSelf.join('; ')}`);
    if (stall.topParley.length > 0) console.log(`    parley: ${stall.topParley.join('; ')}`);
  }
  console.log(`all stalls, self: ${report.overall.topSelf.join('; ')}`);
  console.log(`all stalls, parley on stack: ${report.overall.topParley.join('; ')}`);
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function ranked(map: Map<string, number>, top: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${name} (${round(us / 1000, 1)} ms)`);
}

/** `--trace-stalls` (stalls over 20 ms) or `--trace-stalls=<ms>`; undefined when absent. */
export function traceStallsThreshold(): number | undefined {
  const arg = process.argv.find((value) => value === '--trace-stalls' || value.startsWith('--trace-stalls='));
  if (arg === undefined) return undefined;
  const ms = arg === '--trace-stalls' ? 20 : Number(arg.slice('--trace-stalls='.length));
  if (!(ms > 0)) throw new Error(`--trace-stalls=<ms> needs a positive number of milliseconds, got ${arg}`);
  return ms;
}
