/**
 * What the Kysely chat store needs from a dialect. Everything that differs
 * between SQLite and Postgres (connections, how a write is made atomic,
 * error codes) stays behind this interface.
 */
import type { Compilable, Kysely, QueryResult } from 'kysely';
import type { DatabaseSchema } from './database-schema.js';

/**
 * Runs the queries in order as one atomic write and returns each one's result.
 * With `mustChange`, the write is rolled back and rejects with NothingChanged
 * when the query at that index changes no row: how a reply is finished only
 * once, by whichever of its turn and the sweep of abandoned replies comes first.
 */
export type AtomicWrite = (queries: readonly Compilable[], options?: AtomicWriteOptions) => Promise<QueryResult<unknown>[]>;

export interface AtomicWriteOptions {
  mustChange?: number;
}

/** A guarded write (AtomicWriteOptions.mustChange) found nothing to change and was rolled back. */
export class NothingChanged extends Error {
  constructor() {
    super('The guarded statement changed no row');
    this.name = 'NothingChanged';
  }
}

/** Throws NothingChanged when the guarded query's result changed no row. */
export function assertChanged(results: readonly QueryResult<unknown>[], options: AtomicWriteOptions | undefined): void {
  if (options?.mustChange === undefined) return;
  const result = results[options.mustChange];
  // SQLite reports no count for a statement with `returning`: its rows are the rows it changed.
  if ((result?.numAffectedRows ?? BigInt(result?.rows.length ?? 0)) === 0n) throw new NothingChanged();
}

export type ConstraintViolation = 'foreign_key' | 'unique';

export interface StoreDatabase {
  readonly kind: 'sqlite' | 'postgres';
  readonly db: Kysely<DatabaseSchema>;
  /**
   * Runs `work`, which may read through `db` and then write through the
   * AtomicWrite it is given. SQLite runs one such work at a time, so the reads
   * see no other write of this process before the work's own write lands.
   * Postgres runs them concurrently; the store relies on constraints there.
   */
  write<T>(work: (writeAtomically: AtomicWrite) => Promise<T>): Promise<T>;
  /** Which kind of constraint `error` reports breaking, if any. */
  violatedConstraint(error: unknown): ConstraintViolation | undefined;
  /** The schema Kysely's migration bookkeeping tables belong in. */
  migrationTableSchema(): Promise<string | undefined>;
  close(): Promise<void>;
}
