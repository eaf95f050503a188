/**
 * Sums the self time of a V8 CPU profile (`node --cpu-prof`) per function
 * and per package, to see where a relay spends its CPU.
 *
 *   npx tsx bench/lib/summarize-profile.ts <file.cpuprofile | directory> [--top=20]
 *
 * A directory means its newest .cpuprofile file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { argValue } from './bench-args.js';
import { printTable } from './report.js';
import { round } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

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
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url);
  const key = where === '' ? `(${functionName || 'anonymous'})` : `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPackage.set(packageOf(url, functionName), (byPackage.get(packageOf(url, functionName)) ?? 0) + us);
}

const rows = (map: Map<string, number>, column: string) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ [column]: name, 'self ms': round(us / 1000, 1), '% of busy': round((100 * us) / busyUs, 1) }));

console.log(`${file}: ${round(totalUs / 1000, 0)} ms sampled, ${round(busyUs / 1000, 0)} ms busy (not idle)`);
printTable(`top ${top} functions by self time`, rows(byFunction, 'function'));
printTable(`top ${top} packages / places by self time`, rows(byPackage, 'where'));

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0]!;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

/** A node_modules package, Parley's own directory (src/store, …), `node:` internals, or a V8 pseudo-frame. */
function packageOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'native'})`;
  const path = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const parts = path.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  // node:internal/deps/undici, node:internal/webstreams, node:internal/modules (loading), …
  if (path.startsWith('node:internal/deps/')) return path.split('/').slice(0, 3).join('/');
  if (path.startsWith('node:')) return path.split('/').slice(0, 2).join('/');
  if (path.startsWith('src/')) return path.split('/').slice(0, 2).join('/');
  return path;
}
