import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { compiledScript } from './compiled-script.js';

export interface RunningProcess {
  process: ChildProcess;
  pid: number;
  /** The first line the process printed that matched `readyPattern` ('' without one). */
  readyLine: string;
  stop(): Promise<void>;
}

/**
 * Starts a Node script (a .ts path of this repository, run compiled; a .js
 * path as it is, e.g. a peer installed elsewhere) in a process of its own, so
 * its CPU can be read from /proc apart from the load generator's, and waits
 * for a line on stdout that says it is ready (without `readyPattern`, the
 * caller finds out on its own).
 */
export async function startNodeProcess(
  script: string,
  options: { args?: string[]; env?: Record<string, string>; readyPattern?: RegExp; nodeArgs?: string[]; cwd?: string },
): Promise<RunningProcess> {
  const entry = script.endsWith('.ts') ? compiledScript(script) : script;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { readyPattern } = options;
  const readyLine = await new Promise<string>((resolve, reject) => {
    if (readyPattern === undefined) return resolve('');
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((candidate) => readyPattern.test(candidate));
      if (line !== undefined) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  child.stdout!.resume();
  return {
    process: child,
    pid: child.pid!,
    readyLine,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
