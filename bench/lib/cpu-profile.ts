/** V8 CPU profiles (`node --cpu-prof`): their shape and how their frames are named in the bench's reports. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** `name file:line`, or `(name)` for V8's pseudo-frames ((idle), (garbage collector), …). */
export function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url);
  return where === '' ? `(${functionName || 'anonymous'})` : `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

export function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0]!;
}

export function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  const short = path.startsWith('/') ? relative(process.cwd(), path) : path;
  // The benches run Parley compiled into .bench-build/ (bench/lib/node-process.ts): name its files by their source.
  return short.startsWith('.bench-build/') ? short.slice('.bench-build/'.length) : short;
}

/** A node_modules package, Parley's own directory (src/store, …), `node:` internals, or a V8 pseudo-frame. */
export function packageOf(url: string, functionName: string): string {
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
