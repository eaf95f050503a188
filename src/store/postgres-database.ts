/**
 * Postgres through a pg pool. Atomic writes are transactions; concurrent
 * writers are left to Postgres's row locks and the schema's constraints.
 */
import { Kysely, PostgresDialect, sql, type Compilable, type CompiledQuery, type QueryResult } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema } from './database-schema.js';
import { assertChanged, type AtomicWriteOptions, type ConstraintViolation, type StoreDatabase } from './store-database.js';

export interface PostgresOptions {
  /** Puts every table in this schema (it is created on migrate when missing); tests use one per run. */
  schema?: string;
}

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function openPostgresDatabase(connectionString: string, options: PostgresOptions = {}): StoreDatabase {
  const { schema } = options;
  if (schema !== undefined && !schemaNamePattern.test(schema)) {
    throw new Error(`Invalid Postgres schema name: ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString,
    types: { getTypeParser },
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    write: (work) => work((queries, options) => writeAtomically(pool, queries, options)),
    violatedConstraint,
    migrationTableSchema: async () => schema ?? (await currentSchema(db)),
    close: () => db.destroy(),
  };
}

/**
 * Runs on the pool directly rather than through Kysely's transaction
 * machinery, which costs a measurable share of a turn's CPU.
 */
async function writeAtomically(
  pool: pg.Pool,
  queries: readonly Compilable[],
  options?: AtomicWriteOptions,
): Promise<QueryResult<unknown>[]> {
  const [onlyQuery, ...otherQueries] = queries.map((query) => query.compile());
  if (onlyQuery === undefined) return [];
  // One statement is atomic by itself: skipping BEGIN and COMMIT saves two round trips.
  if (otherQueries.length === 0) {
    const results = [await run(pool, onlyQuery)];
    assertChanged(results, options);
    return results;
  }
  const client = await pool.connect();
  try {
    await client.query('begin');
    const results = [await run(client, onlyQuery)];
    for (const query of otherQueries) results.push(await run(client, query));
    assertChanged(results, options);
    await client.query('commit');
    client.release();
    return results;
  } catch (error) {
    // A client that cannot even roll back is broken; releasing it with the error makes the pool discard it.
    await client.query('rollback').then(
      () => client.release(),
      (rollbackError: Error) => client.release(rollbackError),
    );
    throw error;
  }
}

async function run(runner: pg.Pool | pg.PoolClient, query: CompiledQuery): Promise<QueryResult<unknown>> {
  const result = await runner.query(query.sql, [...query.parameters]);
  return { rows: result.rows, numAffectedRows: BigInt(result.rowCount ?? 0) };
}

const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (value: string) => Date;
const timestamptzToIso = (value: string) => parseTimestamptz(value).toISOString();

/**
 * Returns bigint as a number (token totals and counts stay far below 2^53)
 * and timestamptz as an ISO string, so rows look the same as SQLite's. Set on
 * this pool only, never globally, so other pg users in the process are unaffected.
 */
function getTypeParser(oid: number, format?: 'text' | 'binary') {
  if (oid === pg.types.builtins.INT8) return Number;
  if (oid === pg.types.builtins.TIMESTAMPTZ) return timestamptzToIso;
  return pg.types.getTypeParser(oid, format);
}

function violatedConstraint(error: unknown): ConstraintViolation | undefined {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === '23503') return 'foreign_key';
  if (code === '23505') return 'unique';
  return undefined;
}

/**
 * Kysely looks for its migration table in every schema unless told which,
 * so a table in another schema would make it skip creating ours.
 */
async function currentSchema(db: Kysely<DatabaseSchema>): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}
