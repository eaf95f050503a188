/**
 * Postgres through a pg pool. Atomic writes are transactions; concurrent
 * writers are left to Postgres's row locks and the schema's constraints.
 */
import { Kysely, PostgresDialect, sql, type Compilable, type CompiledQuery, type PostgresPool, type QueryResult } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema } from './database-schema.js';
import { asStoreUnavailable } from './store-unavailable.js';
import { assertChanged, type AtomicWriteOptions, type ConstraintViolation, type StoreDatabase } from './store-database.js';

export interface PostgresOptions {
  /** Puts every table in this schema (it is created on migrate when missing); tests use one per run. */
  schema?: string;
  /** How long a connection attempt or a query may take before it fails as store_unavailable. */
  timeoutMs: number;
  /** Told about a pooled connection lost (Postgres restarting, a network cut); the pool replaces it. */
  onConnectionLost: (error: Error) => void;
}

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function openPostgresDatabase(connectionString: string, options: PostgresOptions): StoreDatabase {
  const { schema, timeoutMs } = options;
  if (schema !== undefined && !schemaNamePattern.test(schema)) {
    throw new Error(`Invalid Postgres schema name: ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString,
    types: { getTypeParser },
    // pg waits forever by default: a database that hangs would hang every request with it.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // A connection lost between queries emits `error` on its client, idle (then the pool re-emits it) or
  // checked out; without listeners either would crash the process. The client's listener reports it.
  pool.on('connect', (client) => client.on('error', options.onConnectionLost));
  pool.on('error', () => {});
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: reportingUnavailable(pool) }) });
  return {
    kind: 'postgres',
    db,
    write: (work) =>
      work((queries, writeOptions) =>
        writeAtomically(pool, queries, writeOptions).catch((error: unknown) => {
          throw asStoreUnavailable(error);
        }),
      ),
    violatedConstraint,
    migrationTableSchema: async () => schema ?? (await currentSchema(db)),
    close: () => db.destroy(),
  };
}

/**
 * The pool as Kysely sees it, with a connection refused, lost or timed out
 * thrown as store_unavailable, so every read answers 503 while the database
 * is away instead of a 500.
 */
function reportingUnavailable(pool: pg.Pool): PostgresPool {
  const rethrow = (error: unknown): never => {
    throw asStoreUnavailable(error);
  };
  return {
    connect: async () => {
      const client = await pool.connect().catch(rethrow);
      return {
        query: ((text: string, parameters: unknown[]) => client.query(text, parameters).catch(rethrow)) as never,
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
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
