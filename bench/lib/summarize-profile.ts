/**
 * Sums the self time of a V8 CPU profile (`node --cpu-prof`) per function
 * and per package, to see where a relay spends its CPU.
 *
 *   npx tsx bench/lib/summarize-profile.ts <file.cpuprofile | directory> [--top=20]
 *
 * A directory means its newest .cpuprofile file.
 */
import { readFileSync, statSync } from 'node:fs';
import { argValue } from './bench-args.js';
import { frameName, newestProfile, packageOf, type CpuProfile } from './cpu-profile.js';
import { printTable } from './report.js';
import { round } from './stats.js';

const target = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
if (target === undefined) {
  console.error('usage: summarize-profile.ts <file.cpuprofile | directory> [--top=20]');
  process.exit(2);
}
const top = Number(argValue('top') ?? 20);
const file = statSync(target).isDirectory() ? newestProfile(target) : target;
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

// Self time of a node is the time of the samples taken while it was on top of the stack.
const selfUs = new Map<number, number>();
profile.samples.forEach((nodeId, index) => selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
// Percentages are of the time the thread was busy: idle time says nothing about cost.
const idleUs = profile.nodes
  .filter((node) => node.callFrame.functionName === '(idle)')
  .reduce((sum, node) => sum + (selfUs.get(node.id) ?? 0), 0);
const busyUs = totalUs - idleUs;

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0 || node.callFrame.functionName === '(idle)') continue;
  const key = frameName(node);
  const where = packageOf(node.callFrame.url, node.callFrame.functionName);
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPackage.set(where, (byPackage.get(where) ?? 0) + us);
}

const rows = (map: Map<string, number>, column: string) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ [column]: name, 'self ms': round(us / 1000, 1), '% of busy': round((100 * us) / busyUs, 1) }));

console.log(`${file}: ${round(totalUs / 1000, 0)} ms sampled, ${round(busyUs / 1000, 0)} ms busy (not idle)`);
printTable(`top ${top} functions by self time`, rows(byFunction, 'function'));
printTable(`top ${top} packages / places by self time`, rows(byPackage, 'where'));
