import type Database from 'libsql';
import type { Compilable, QueryResult } from 'kysely';
import { assertChanged, type AtomicWrite } from './store-database.js';

type LibsqlDatabase = InstanceType<typeof Database>;

/** Runs a write's statements in order, synchronously, and returns each one's result. */
export type RunStatements = (queries: readonly Compilable[]) => QueryResult<unknown>[];

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
 * group has committed. Groups start on a fresh macrotask: the driver is
 * synchronous, and a burst of turns run back to back would otherwise stall
 * every socket (bench/sockets.ts saw 1.5 s gaps when 1,000 turns started at
 * once).
 */
export class SqliteGroupCommit {
  private queue: QueuedWrite[] = [];
  private running = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly database: LibsqlDatabase,
    private readonly runStatements: RunStatements,
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

  private readonly writeInSavepoint: AtomicWrite = async (queries, options) => {
    this.database.exec('SAVEPOINT parley_write');
    try {
      const results = this.runStatements(queries);
      assertChanged(results, options);
      this.database.exec('RELEASE parley_write');
      return results;
    } catch (error) {
      this.database.exec('ROLLBACK TO parley_write');
      this.database.exec('RELEASE parley_write');
      throw error;
    }
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
      this.database.exec('BEGIN IMMEDIATE');
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
      this.database.exec('COMMIT');
      return outcomes;
    } catch (error) {
      if (this.database.inTransaction) this.database.exec('ROLLBACK');
      return group.map(() => ({ ok: false, error }));
    }
  }
}
