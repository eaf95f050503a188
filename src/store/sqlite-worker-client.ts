import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NothingChanged } from './store-database.js';
import { storeUnavailable } from './store-unavailable.js';
import type {
  SqliteRequest,
  SqliteResponse,
  SqliteStatementInput,
  SqliteStatementResult,
  SqliteWorkerData,
} from './sqlite-worker-protocol.js';

type Pending = { resolve: (results: SqliteStatementResult[]) => void; reject: (error: unknown) => void };
type Request = SqliteRequest extends infer Each ? (Each extends SqliteRequest ? Omit<Each, 'id'> : never) : never;

/**
 * The main thread's end of the SQLite worker (sqlite-worker.ts): each call
 * is one message, answered in order. Errors come back with SQLite's `code`
 * (SQLITE_CONSTRAINT_UNIQUE, …), which the store reads.
 */
export class SqliteWorkerConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the worker has gone (closed, or died): every later call fails with it. */
  private gone: unknown;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (response: SqliteResponse) => this.answer(response));
    // Without its worker the store cannot answer: every surface says so with a 503, as for a lost Postgres.
    worker.on('error', (error: Error) => this.fail(storeUnavailable(new Error(`the SQLite worker failed: ${error.message}`))));
    worker.on('exit', (code) => this.fail(storeUnavailable(new Error(`the SQLite worker exited (code ${code})`))));
  }

  static async open(filePath: string): Promise<SqliteWorkerConnection> {
    const workerData: SqliteWorkerData = { filePath, libsqlPath: createRequire(import.meta.url).resolve('libsql') };
    const connection = new SqliteWorkerConnection(startWorker(workerData));
    // The first answer says the worker has opened the file (or why it could not).
    await connection.exec('select 1');
    return connection;
  }

  async query(statement: SqliteStatementInput): Promise<SqliteStatementResult> {
    return (await this.send({ kind: 'query', statement }))[0]!;
  }

  async exec(sql: string): Promise<void> {
    await this.send({ kind: 'exec', sql });
  }

  /** Runs the statements in a savepoint of their own; rejects with NothingChanged when the guarded one changed no row. */
  write(statements: readonly SqliteStatementInput[], mustChange: number | undefined): Promise<SqliteStatementResult[]> {
    return this.send({ kind: 'write', statements, mustChange });
  }

  async close(): Promise<void> {
    if (this.gone !== undefined) return;
    await this.send({ kind: 'close' });
    await this.worker.terminate();
  }

  private send(request: Request): Promise<SqliteStatementResult[]> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The worker keeps the process alive only while it owes an answer: a store left open does not hold a finished program.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private answer(response: SqliteResponse): void {
    const pending = this.pending.get(response.id);
    if (pending === undefined) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker.unref();
    if (response.ok) pending.resolve(response.results);
    else if (response.error.nothingChanged) pending.reject(new NothingChanged());
    else
      pending.reject(
        Object.assign(new Error(response.error.message), response.error.code === undefined ? {} : { code: response.error.code }),
      );
  }

  private fail(error: unknown): void {
    this.gone ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/**
 * The compiled worker beside this module (dist/, what `npm start` runs), or,
 * when Parley runs from its TypeScript sources (tests, tsx), a bootstrap that
 * registers tsx's loader in the worker before importing the .ts file: a
 * worker inherits no loader from vitest, and `--import tsx` in its execArgv
 * does not reach its entry module.
 */
function startWorker(workerData: SqliteWorkerData): Worker {
  const compiled = new URL('./sqlite-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData });
  // tsx/esm/api's "import" entry sits beside its "require" one (tsx's exports map).
  const tsxApi = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const source = new URL('./sqlite-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
