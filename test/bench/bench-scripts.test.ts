import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The scenarios run-all finds: bench/*.ts that report with printJsonLine. */
const scenarios = readdirSync('bench')
  .filter((file) => file.endsWith('.ts') && file !== 'run-all.ts')
  .filter((file) => readFileSync(`bench/${file}`, 'utf8').includes('printJsonLine('))
  .map((file) => file.replace(/\.ts$/, ''));

/**
 * Not a timed test: every benchmark runs once at a tiny size, so a broken
 * script fails CI. The numbers are the scripts' business (docs/performance.md).
 */
describe('the benchmark scripts', () => {
  it(
    'each run at a tiny size and report one JSON line',
    async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run-all.ts', '--tiny'], {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 15 * 60_000,
      });
      const reported = stdout
        .split('\n')
        .filter((line) => line.startsWith('BENCH_JSON '))
        .map((line) => (JSON.parse(line.slice('BENCH_JSON '.length)) as { scenario: string }).scenario);
      expect(scenarios.length).toBeGreaterThanOrEqual(5);
      for (const scenario of ['relay', 'surfaces', 'sockets', 'store', 'stop']) expect(reported).toContain(scenario);
    },
    16 * 60_000,
  );
});
