import Database from 'libsql';
import pg from 'pg';
import type { TempDatabase } from './temp-database.js';

export interface StoredTurns {
  userMessages: number;
  replies: number;
  inProgress: number;
}

/** What the soak left in the database: every user message must have its reply, none still in progress. */
export async function storedTurns(database: TempDatabase): Promise<StoredTurns> {
  const query = `select
      count(*) filter (where role = 'user') as "userMessages",
      count(*) filter (where role = 'assistant') as replies,
      count(*) filter (where status = 'in_progress') as "inProgress"
    from messages`;
  if (database.kind === 'sqlite') {
    const sqlite = new Database(database.url.replace(/^file:/, ''), { readonly: true });
    try {
      const { userMessages, replies, inProgress } = sqlite.prepare(query).get() as StoredTurns;
      return { userMessages, replies, inProgress };
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(query.replace(/count\(\*\)/g, 'count(*)::int'));
    return rows[0] as StoredTurns;
  } finally {
    await client.end();
  }
}

export interface GrowthVerdict {
  summary: { rssMb: { early: number; late: number }; fds: { early: number; late: number } };
  problems: string[];
}

/**
 * Growth that does not level off: after a warm-up (the first fifth of the
 * windows), the highest RSS of the last third may exceed that of the
 * second third by at most 10% plus 16 MB (the heap breathes), and open
 * descriptors by at most 20. A leak of a few KB per turn fails this within
 * half an hour; a steady state passes.
 */
export function growthVerdict(samples: { rssMb: number; fds: number }[]): GrowthVerdict {
  const settled = samples.slice(Math.floor(samples.length / 5));
  const third = Math.max(1, Math.floor(settled.length / 3));
  const middle = settled.slice(third, 2 * third);
  const last = settled.slice(-third);
  const peak = (rows: typeof samples, key: 'rssMb' | 'fds') => Math.max(...rows.map((row) => row[key]));
  const summary = {
    rssMb: { early: peak(middle, 'rssMb'), late: peak(last, 'rssMb') },
    fds: { early: peak(middle, 'fds'), late: peak(last, 'fds') },
  };
  const problems: string[] = [];
  if (samples.length < 6)
    problems.push(`only ${samples.length} windows: too short to judge growth (run longer or use a smaller --window-seconds)`);
  else {
    if (summary.rssMb.late > summary.rssMb.early * 1.1 + 16)
      problems.push(`RSS still growing: ${summary.rssMb.early} MB → ${summary.rssMb.late} MB`);
    if (summary.fds.late > summary.fds.early + 20)
      problems.push(`open descriptors still growing: ${summary.fds.early} → ${summary.fds.late}`);
  }
  return { summary, problems };
}
