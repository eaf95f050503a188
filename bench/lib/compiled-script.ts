import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The processes a benchmark measures (Parley, the byte proxy, the bare
 * Socket.IO server, the fake upstream) run as compiled JavaScript, as
 * `npm start` runs Parley: through tsx each would carry its loader's memory
 * (~65 MB) and module-compile CPU into the numbers. Compiles the project once
 * into .bench-build/; run-all compiles before its scenarios and tells them so
 * through BENCH_BUILD_READY.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}.bench-build`;
let built = process.env.BENCH_BUILD_READY === '1' && existsSync(buildDir);

export function compileForBench(): void {
  if (built) return;
  execFileSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json', '--outDir', buildDir, '--sourceMap', 'false'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  built = true;
}

/** `src/main.ts` → `.bench-build/src/main.js`, compiling first if needed. */
export function compiledScript(script: string): string {
  compileForBench();
  return `${buildDir}/${script.replace(/\.ts$/, '.js')}`;
}
