/**
 * SQLite through `libsql` (the better-sqlite3-compatible driver under
 * @libsql/client, used directly). Statements are prepared once and cached:
 * preparing on every call was the largest cost of a stored turn in profiles.
 * The driver is synchronous, so an atomic write can never interleave with
 * another; writes are still queued in-process (and committed in groups, see
 * sqlite-group-commit.ts) so that a turn's reads and its write see no other
 * write in between.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'libsql';
import { Kysely, SqliteDialect, type Compilable, type QueryResult, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';
import type { ConstraintViolation, StoreDatabase } from './store-database.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';

type LibsqlDatabase = InstanceType<typeof Database>;

export async function openSqliteDatabase(filePath: string): Promise<StoreDatabase> {
  const absolutePath = path.resolve(filePath);
  await mkdir(path.dirname(absolutePath), { recursive: true });
  const database = new Database(absolutePath);
  try {
    database.exec('PRAGMA journal_mode = WAL');
    database.exec('PRAGMA synchronous = NORMAL');
    // Off by default in SQLite; deleting a conversation relies on its cascade.
    database.exec('PRAGMA foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  return sqliteDatabase(database);
}

function sqliteDatabase(database: LibsqlDatabase): StoreDatabase {
  const statements = new StatementCache(database);
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: statements }) });
  const writes = new SqliteGroupCommit(database, (queries) => runStatements(statements, queries));
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
    },
  };
}

function runStatements(statements: StatementCache, queries: readonly Compilable[]): QueryResult<unknown>[] {
  return queries.map((query) => {
    const { sql, parameters } = query.compile();
    const statement = statements.prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters) };
    return { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) };
  });
}

/**
 * The database as Kysely's SqliteDialect sees it, with prepared statements
 * kept per SQL text. The store builds a few dozen distinct statements, so the
 * cache stays small; it is bounded all the same.
 */
class StatementCache implements SqliteDatabase {
  private readonly cache = new Map<string, SqliteStatement>();

  constructor(private readonly database: LibsqlDatabase) {}

  prepare(sql: string): SqliteStatement {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      statement = this.database.prepare(sql) as unknown as SqliteStatement;
      if (this.cache.size >= 500) this.cache.clear();
      this.cache.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.cache.clear();
    this.database.close();
  }
}

function violatedConstraint(error: unknown): ConstraintViolation | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  return undefined;
}
