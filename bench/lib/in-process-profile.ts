/**
 * A CPU profile of part of this process's run (what `node --cpu-prof` gives
 * for the whole run), through the inspector, so a benchmark can profile just
 * its measured window. Read the file with bench/lib/summarize-profile.ts or
 * open it in Chrome DevTools.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export interface RunningProfile {
  /** Stops profiling and writes the .cpuprofile. */
  stop(file: string): Promise<void>;
}

export async function startProfiling(samplingIntervalUs = 200): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
    },
  };
}
