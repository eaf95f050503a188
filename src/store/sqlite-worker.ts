/**
 * The store's SQLite connection, in a worker thread of its own. libsql's API
 * is synchronous: on the main thread every statement and every group commit
 * held up the event loop, and with it every stream being relayed (bench:
 * stalls of 40–80 ms at 200 streams, issue 17). Here they block only this
 * thread. Messages are handled one at a time, in arrival order, on one
 * connection, so the main thread sees the same ordering it saw before.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type {
  SqliteRequest,
  SqliteResponse,
  SqliteStatementInput,
  SqliteStatementResult,
  SqliteWorkerData,
} from './sqlite-worker-protocol.js';

interface LibsqlStatement {
  reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
}

interface LibsqlDatabase {
  prepare(sql: string): LibsqlStatement;
  exec(sql: string): void;
  close(): void;
}

const { filePath, libsqlPath } = workerData as SqliteWorkerData;
const Database = createRequire(import.meta.url)(libsqlPath) as new (path: string) => LibsqlDatabase;
const database = new Database(filePath);
const port = parentPort!;

/**
 * Prepared statements kept per SQL text: preparing on every call was the
 * largest cost of a stored turn in profiles. The store builds a few dozen
 * distinct statements; the cache is bounded all the same.
 */
const statements = new Map<string, LibsqlStatement>();

function prepare(sql: string): LibsqlStatement {
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = database.prepare(sql);
    if (statements.size >= 500) statements.clear();
    statements.set(sql, statement);
  }
  return statement;
}

function run({ sql, parameters }: SqliteStatementInput): SqliteStatementResult {
  const statement = prepare(sql);
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { rows: [], changes, lastInsertRowid };
}

class NothingChanged extends Error {}

function write(input: readonly SqliteStatementInput[], mustChange: number | undefined): SqliteStatementResult[] {
  database.exec('SAVEPOINT parley_write');
  try {
    const results = input.map(run);
    const guarded = mustChange === undefined ? undefined : results[mustChange];
    // SQLite reports no count for a statement with `returning`: its rows are the rows it changed.
    if (guarded !== undefined && (guarded.changes ?? guarded.rows.length) === 0) throw new NothingChanged();
    database.exec('RELEASE parley_write');
    return results;
  } catch (error) {
    database.exec('ROLLBACK TO parley_write');
    database.exec('RELEASE parley_write');
    throw error;
  }
}

function handle(request: SqliteRequest): SqliteStatementResult[] {
  switch (request.kind) {
    case 'query':
      return [run(request.statement)];
    case 'exec':
      database.exec(request.sql);
      return [];
    case 'write':
      return write(request.statements, request.mustChange);
    case 'close':
      statements.clear();
      database.close();
      return [];
  }
}

port.on('message', (request: SqliteRequest) => {
  let response: SqliteResponse;
  try {
    response = { id: request.id, ok: true, results: handle(request) };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    response = {
      id: request.id,
      ok: false,
      error: {
        message: typeof message === 'string' ? message : String(error),
        ...(typeof code === 'string' && { code }),
        ...(error instanceof NothingChanged && { nothingChanged: true }),
      },
    };
  }
  port.postMessage(response);
  if (request.kind === 'close') port.close();
});
