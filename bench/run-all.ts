/**
 * `npm run bench`: every scenario script in bench/, one after another, each
 * in a process of its own so one scenario's leftovers cannot skew the next.
 * `--tiny` is passed on. A scenario is a bench/*.ts that prints its result
 * with printJsonLine; helper processes (the byte proxy, a bare Socket.IO
 * server) live in bench/ too but never print one, so they are left out.
 *
 *   npm run bench            # full size: minutes per scenario
 *   npm run bench -- --tiny  # seconds: checks the scripts work
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileForBench } from './lib/compiled-script.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const notScenarios = new Set(['run-all.ts', 'byte-proxy.ts']);
const scenarios = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && !notScenarios.has(file))
  .filter((file) => readFileSync(new URL(file, import.meta.url), 'utf8').includes('printJsonLine('))
  .sort();
const passOn = process.argv.slice(2);

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
compileForBench();

const failed: string[] = [];
for (const scenario of scenarios) {
  console.log(`\n=== bench/${scenario} ${passOn.join(' ')}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', `bench/${scenario}`, ...passOn], {
    env: { ...process.env, BENCH_BUILD_READY: '1' },
    stdio: 'inherit',
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code === 0) console.log(`=== bench/${scenario}: done in ${seconds} s`);
  else {
    console.log(`=== bench/${scenario}: FAILED (${signal ?? `exit ${code}`}) after ${seconds} s`);
    failed.push(scenario);
  }
}
if (failed.length > 0) {
  console.error(`\n${failed.length} of ${scenarios.length} scenarios failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\nall ${scenarios.length} scenarios ran: ${scenarios.join(', ')}`);
