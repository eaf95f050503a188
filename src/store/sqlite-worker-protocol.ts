/**
 * The messages between the store (sqlite-worker-client.ts, on the main
 * thread) and its SQLite connection (sqlite-worker.ts, a worker thread).
 * Types only: the worker imports nothing else of Parley's.
 */
export interface SqliteStatementInput {
  sql: string;
  parameters: readonly unknown[];
}

export type SqliteRequest =
  | { id: number; kind: 'query'; statement: SqliteStatementInput }
  | { id: number; kind: 'exec'; sql: string }
  /** Statements run in order inside a savepoint, rolled back as one when any fails or the guarded one changes nothing. */
  | { id: number; kind: 'write'; statements: readonly SqliteStatementInput[]; mustChange: number | undefined }
  | { id: number; kind: 'close' };

/** One statement's outcome: a reader's rows, or a writer's change count. */
export interface SqliteStatementResult {
  rows: unknown[];
  changes?: number;
  lastInsertRowid?: number | bigint;
}

export type SqliteResponse =
  | { id: number; ok: true; results: SqliteStatementResult[] }
  | { id: number; ok: false; error: { message: string; code?: string; nothingChanged?: true } };

/** What the worker is started with. */
export interface SqliteWorkerData {
  filePath: string;
  /** libsql, resolved by the main thread: the worker may run from a folder where a bare import would not find it. */
  libsqlPath: string;
}
