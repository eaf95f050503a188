/**
 * SQLite through `libsql` (the better-sqlite3-compatible driver under
 * @libsql/client), on a worker thread (sqlite-worker.ts): the driver is
 * synchronous, and on the main thread its statements and commits stalled
 * every stream being relayed. Writes are queued in-process and committed in
 * groups (sqlite-group-commit.ts), so that a turn's reads and its write see
 * no other write in between.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Kysely } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';
import type { ConstraintViolation, StoreDatabase } from './store-database.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { SqliteWorkerConnection } from './sqlite-worker-client.js';
import { SqliteWorkerDialect } from './sqlite-worker-dialect.js';

export async function openSqliteDatabase(filePath: string): Promise<StoreDatabase> {
  const absolutePath = path.resolve(filePath);
  await mkdir(path.dirname(absolutePath), { recursive: true });
  const connection = await SqliteWorkerConnection.open(absolutePath);
  try {
    await connection.exec('PRAGMA journal_mode = WAL');
    await connection.exec('PRAGMA synchronous = NORMAL');
    // Off by default in SQLite; deleting a conversation relies on its cascade.
    await connection.exec('PRAGMA foreign_keys = ON');
  } catch (error) {
    await connection.close();
    throw error;
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteWorkerDialect(connection) });
  const writes = new SqliteGroupCommit(connection);
  return {
    kind: 'sqlite',
    db,
    write: (work) => writes.run(work),
    violatedConstraint,
    migrationTableSchema: async () => undefined,
    close: async () => {
      // Writes already accepted still land.
      await writes.drained();
      await db.destroy();
      await connection.close();
    },
  };
}

function violatedConstraint(error: unknown): ConstraintViolation | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  return undefined;
}
