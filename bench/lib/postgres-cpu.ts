/**
 * CPU used by the local Postgres server on behalf of one database: its
 * backends (whose process titles name the database) plus the shared WAL
 * writer, background writer and checkpointer. Only for a Postgres on this
 * machine; elsewhere it reads 0 and says so through `visible`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMs } from './process-cpu.js';

const sharedProcesses = /postgres: .*(walwriter|background writer|checkpointer)/;

export interface PostgresCpuSnapshot {
  /** CPU ms per pid at the time of the snapshot. */
  byPid: Map<number, number>;
}

export function postgresCpuSnapshot(databaseName: string): PostgresCpuSnapshot {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!title.startsWith('postgres: ')) continue;
      if (!title.includes(` ${databaseName} `) && !sharedProcesses.test(title)) continue;
      byPid.set(Number(entry), processCpuMs(Number(entry)));
    } catch {
      // The process ended while we looked.
    }
  }
  return { byPid };
}

/** CPU ms since `before`; backends that started since count in full (those that ended are lost, so keep pools open). */
export function postgresCpuMsSince(before: PostgresCpuSnapshot, databaseName: string): { ms: number; visible: boolean } {
  const after = postgresCpuSnapshot(databaseName);
  let ms = 0;
  for (const [pid, cpu] of after.byPid) ms += cpu - (before.byPid.get(pid) ?? 0);
  return { ms, visible: after.byPid.size > 0 };
}
