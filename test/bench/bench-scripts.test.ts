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
      for (const scenario of ['relay', 'surfaces', 'sockets', 'store', 'stop', 'gateway-streams']) expect(reported).toContain(scenario);
    },
    16 * 60_000,
  );

  it(
    'relay --model-apis --metrics-off --trace-stalls streams through the Portkey peer, /v1/messages, tool calls and a Parley without metrics, every token counted, and names what ran in the stalls',
    async () => {
      const args = [
        '--import',
        'tsx',
        'bench/relay.ts',
        '--tiny',
        '--model-apis',
        '--metrics-off',
        '--trace-stalls=5',
        '--concurrency=1',
        '--delay=0',
      ];
      const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000 });
      const line = stdout.split('\n').find((text) => text.startsWith('BENCH_JSON '))!;
      const { rows } = (
        JSON.parse(line.slice('BENCH_JSON '.length)) as {
          result: { rows: { via: string; streams: number; errors: number; eventLoop: { p50: number; p99: number; max: number } | null }[] };
        }
      ).result;
      expect(rows.map((row) => row.via)).toEqual([
        'parley',
        'proxy',
        'direct',
        'portkey',
        'parley-messages',
        'parley-metrics-off',
        'parley-tools',
        'proxy-tools',
        'direct-tools',
      ]);
      // A stream with more or fewer tokens than the reply's counts as an error.
      for (const row of rows)
        expect({ via: row.via, errors: row.errors, streamed: row.streams > 0 }).toEqual({ via: row.via, errors: 0, streamed: true });
      // Parley's own event-loop delay is recorded next to its latencies; a relay without /metrics has none.
      const loop = (via: string) => rows.find((row) => row.via === via)!.eventLoop;
      expect(loop('parley')).toMatchObject({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
      expect(loop('parley')!.p50).toBeGreaterThan(0);
      expect(loop('parley')!.max).toBeGreaterThanOrEqual(loop('parley')!.p99);
      expect(loop('proxy')).toBeNull();
      expect(loop('parley-metrics-off')).toBeNull();
      // Start-up alone (module loading, the first turns) stalls a loop for over 5 ms, with Parley's own frames on the stack.
      expect(stdout).toMatch(/## stalls over 5 ms in .*\.cpuprofile: [1-9]\d* stalls/);
      expect(stdout).toMatch(/parley: .*src\/app\/app\.js/);
      const costLine = stdout.split('\n').find((text) => text.startsWith('BENCH_JSON ') && text.includes('relay-metrics-cost'))!;
      const cost = (JSON.parse(costLine.slice('BENCH_JSON '.length)) as { result: { rows: { onOverOff: number | string }[] } }).result;
      expect(cost.rows.length).toBeGreaterThan(0);
      for (const row of cost.rows) expect(typeof row.onOverOff).toBe('number');
    },
    6 * 60_000,
  );
});
