/**
 * SQLite through @libsql/client. Writes are serialized in-process and each
 * atomic write is one `client.batch`, because concurrent libsql transactions
 * on a file collide with SQLITE_BUSY (see STACK.md).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, LibsqlError, type Client, type InStatement, type InValue, type ResultSet } from '@libsql/client';
import { LibsqlDialect, type libsql } from '@libsql/kysely-libsql';
import { Kysely, type Compilable, type QueryResult } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';
import type { ConstraintViolation, StoreDatabase } from './store-database.js';
import { WriteQueue } from './write-queue.js';

export async function openSqliteDatabase(filePath: string): Promise<StoreDatabase> {
  const absolutePath = path.resolve(filePath);
  await mkdir(path.dirname(absolutePath), { recursive: true });
  // One connection: the driver runs statements synchronously, so more buy
  // nothing, and the pragmas below are per connection, so a second pooled
  // connection would quietly run without foreign keys.
  const client = createClient({ url: pathToFileURL(absolutePath).href, concurrency: 1 });
  try {
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = NORMAL');
    // Off by default in SQLite; deleting a conversation relies on its cascade.
    await client.execute('PRAGMA foreign_keys = ON');
  } catch (error) {
    client.close();
    throw error;
  }
  return sqliteDatabase(client);
}

function sqliteDatabase(client: Client): StoreDatabase {
  // The dialect is typed against the older @libsql/client it bundles; it only
  // calls execute() and transaction(), which 0.18 keeps compatible.
  const dialect = new LibsqlDialect({ client: client as unknown as libsql.Client });
  const db = new Kysely<DatabaseSchema>({ dialect });
  const writes = new WriteQueue();
  const writeAtomically = async (queries: readonly Compilable[]) => {
    const results = await client.batch(queries.map(toStatement), 'write');
    return results.map(toQueryResult);
  };
  return {
    kind: 'sqlite',
    db,
    write: (work) => writes.run(() => work(writeAtomically)),
    violatedConstraint,
    migrationTableSchema: async () => undefined,
    // Queued so that writes already accepted still land.
    close: () =>
      writes.run(async () => {
        await db.destroy();
        client.close();
      }),
  };
}

function toStatement(query: Compilable): InStatement {
  const { sql, parameters } = query.compile();
  return { sql, args: parameters as InValue[] };
}

function toQueryResult(result: ResultSet): QueryResult<unknown> {
  return { rows: result.rows, numAffectedRows: BigInt(result.rowsAffected) };
}

function violatedConstraint(error: unknown): ConstraintViolation | undefined {
  if (!(error instanceof LibsqlError)) return undefined;
  if (error.extendedCode === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (error.extendedCode === 'SQLITE_CONSTRAINT_UNIQUE' || error.extendedCode === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return 'unique';
  }
  return undefined;
}
