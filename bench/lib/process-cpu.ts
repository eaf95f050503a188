import { readFileSync } from 'node:fs';

const clockTicksPerSecond = 100;

/**
 * CPU time (user + system) a process has used so far, in milliseconds, from
 * /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; it is the part in parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / clockTicksPerSecond;
}

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}
