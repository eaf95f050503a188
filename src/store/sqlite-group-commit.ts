import type { QueryResult } from 'kysely';
import type { SqliteStatementResult } from './sqlite-worker-protocol.js';
import type { SqliteWorkerConnection } from './sqlite-worker-client.js';
import type { AtomicWrite } from './store-database.js';

interface QueuedWrite {
  work: (writeAtomically: AtomicWrite) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * SQLite's writes, queued and committed in groups. SQLite allows one writer,
 * and letting concurrent turns contend for its lock ends in SQLITE_BUSY, so
 * writes run one at a time in arrival order. Every write that is waiting
 * when the queue runs (up to `maxGroup`) shares one transaction: a COMMIT
 * costs the same for one turn as for fifty (each writes the touched pages to
 * the WAL), and profiles of 200 concurrent streams showed COMMIT as the
 * largest cost of a stored turn. Each write is a savepoint of its own, so a
 * failed one rolls back alone; its caller hears the outcome only once the
 * group has committed. The statements run on the SQLite worker thread
 * (sqlite-worker.ts); only the queue is here. A group starts on a fresh
 * macrotask, so that the writes arriving in one burst share it.
 */
export class SqliteGroupCommit {
  private queue: QueuedWrite[] = [];
  private running = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly connection: SqliteWorkerConnection,
    private readonly maxGroup = 64,
  ) {}

  run<T>(work: (writeAtomically: AtomicWrite) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.commitGroup());
      }
    });
  }

  /** Resolves once every write queued so far has been committed. */
  drained(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  // One message to the worker per write: its savepoint, statements and guard run there together.
  private readonly writeInSavepoint: AtomicWrite = async (queries, options) => {
    const results = await this.connection.write(
      queries.map((query) => query.compile()),
      options?.mustChange,
    );
    return results.map(toQueryResult);
  };

  private async commitGroup(): Promise<void> {
    const group = this.queue.splice(0, this.maxGroup);
    const outcomes = await this.runGroup(group);
    group.forEach((write, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
    if (this.queue.length > 0) setImmediate(() => void this.commitGroup());
    else {
      this.running = false;
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async runGroup(group: QueuedWrite[]): Promise<Outcome[]> {
    try {
      await this.connection.exec('BEGIN IMMEDIATE');
    } catch (error) {
      return group.map(() => ({ ok: false, error }));
    }
    const outcomes: Outcome[] = [];
    for (const write of group) {
      try {
        outcomes.push({ ok: true, value: await write.work(this.writeInSavepoint) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    try {
      await this.connection.exec('COMMIT');
      return outcomes;
    } catch (error) {
      // A failed COMMIT may have ended the transaction already; a ROLLBACK without one has nothing to undo.
      await this.connection.exec('ROLLBACK').catch(() => undefined);
      return group.map(() => ({ ok: false, error }));
    }
  }
}

function toQueryResult(result: SqliteStatementResult): QueryResult<unknown> {
  return result.changes === undefined ? { rows: result.rows } : { rows: [], numAffectedRows: BigInt(result.changes) };
}
