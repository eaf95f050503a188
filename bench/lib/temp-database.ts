import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database that exists only for one benchmark run; `drop()` removes it, files and all. */
export interface TempDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  /** The Postgres database's name (its backends' process titles carry it). */
  name?: string;
  drop(): Promise<void>;
}

export async function tempDatabase(kind: 'sqlite' | 'postgres'): Promise<TempDatabase> {
  return kind === 'sqlite' ? tempSqlite() : tempPostgres();
}

/** A SQLite file in a fresh temp directory (WAL and SHM files land next to it). */
export async function tempSqlite(): Promise<TempDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  return {
    kind: 'sqlite',
    url: `file:${join(dir, 'bench.db')}`,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh Postgres database next to the admin one: Parley's store only
 * honours search_path through a test option, so a schema would not do.
 */
export async function tempPostgres(): Promise<TempDatabase> {
  const name = `parley_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    name,
    async drop() {
      // FORCE: a pool that did not close in time must not keep the database alive.
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
