import { randomUUID } from 'node:crypto';
import { AppError, toAppError } from '../core/errors.js';
import {
  clampProgress,
  listedJobsLimit,
  runningJob,
  type JobObserver,
  type JobProcessor,
  type JobQueue,
  type JobQueueDepth,
  type JobSpec,
  type JobView,
  type RunningJob,
} from './job-queue.js';

export interface InProcessJobQueueOptions<Spec extends JobSpec, Result> {
  processor: JobProcessor<Spec, Result>;
  /** Jobs running at once. */
  concurrency: number;
  /** How long a finished job stays readable. */
  keepFinishedMs?: number;
  /** At most this many finished jobs are kept; the oldest go first. */
  maxFinishedJobs?: number;
  /** Jobs waiting beyond this are refused, so a flood cannot grow memory without bound. */
  maxWaitingJobs?: number;
  /** Told when each job that ran ends. */
  observer?: JobObserver;
}

interface JobRecord<Spec extends JobSpec, Result> {
  job: RunningJob<Spec>;
  view: JobView<Result, Spec['kind']>;
  finishedAtMs: number;
}

/**
 * Jobs in this process's memory: the default when no REDIS_URL is set.
 * Waiting jobs are lost when the process stops; close() cancels the running
 * ones through their signal (a completion stores its partial reply).
 */
export class InProcessJobQueue<Spec extends JobSpec, Result> implements JobQueue<Spec, Result> {
  private readonly records = new Map<string, JobRecord<Spec, Result>>();
  /** Finished job ids, oldest finished first. */
  private readonly finished = new Set<string>();
  private readonly waiting: string[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly keepFinishedMs: number;
  private readonly maxFinishedJobs: number;
  private readonly maxWaitingJobs: number;

  constructor(private readonly options: InProcessJobQueueOptions<Spec, Result>) {
    this.keepFinishedMs = options.keepFinishedMs ?? 60 * 60 * 1000;
    this.maxFinishedJobs = options.maxFinishedJobs ?? 1000;
    this.maxWaitingJobs = options.maxWaitingJobs ?? 10_000;
  }

  async add<Kind extends Spec['kind']>(owner: string, kind: Kind, payload: Extract<Spec, { kind: Kind }>['payload']): Promise<string> {
    if (this.shutdown.signal.aborted) throw new AppError('internal_error', 'The job queue is shutting down');
    if (this.waiting.length >= this.maxWaitingJobs) {
      throw new AppError('rate_limited', 'Too many jobs are waiting; try again later', { retryable: true, retryAfterSeconds: 5 });
    }
    const id = randomUUID();
    const job = runningJob<Spec>(id, owner, kind, payload);
    const view: JobView<Result, Spec['kind']> = {
      id,
      kind,
      state: 'waiting',
      progress: 0,
      result: null,
      failedReason: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.records.set(id, { job, view, finishedAtMs: 0 });
    this.waiting.push(id);
    this.startWaitingJobs();
    return id;
  }

  async get(owner: string, id: string): Promise<JobView<Result, Spec['kind']> | undefined> {
    this.forgetExpiredJobs();
    const record = this.records.get(id);
    return record === undefined || record.job.owner !== owner ? undefined : { ...record.view };
  }

  async list(owner: string): Promise<JobView<Result, Spec['kind']>[]> {
    this.forgetExpiredJobs();
    const views: JobView<Result, Spec['kind']>[] = [];
    for (const record of this.records.values()) if (record.job.owner === owner) views.push({ ...record.view });
    // Records are kept in the order they were added.
    return views.reverse().slice(0, listedJobsLimit);
  }

  async depth(): Promise<JobQueueDepth> {
    return { waiting: this.waiting.length, active: this.running.size };
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    for (const id of this.waiting.splice(0)) this.finish(id, { failedReason: 'The server shut down before the job started' });
    await Promise.all(this.running.values());
  }

  private startWaitingJobs(): void {
    while (this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const run = this.run(id).finally(() => {
        this.running.delete(id);
        this.startWaitingJobs();
      });
      this.running.set(id, run);
    }
  }

  private async run(id: string): Promise<void> {
    const record = this.records.get(id)!;
    record.view.state = 'active';
    const context = {
      reportProgress: async (progress: number) => {
        record.view.progress = clampProgress(progress);
      },
      signal: this.shutdown.signal,
    };
    const startedAt = performance.now();
    const ended = (status: 'completed' | 'failed') =>
      this.options.observer?.jobEnded({ kind: record.job.kind, status, durationMs: performance.now() - startedAt });
    try {
      const result = await this.options.processor(record.job, context);
      this.finish(id, { result });
      ended('completed');
    } catch (error) {
      this.finish(id, { failedReason: toAppError(error).message });
      ended('failed');
    }
  }

  private finish(id: string, outcome: { result: Result } | { failedReason: string }): void {
    const record = this.records.get(id)!;
    const now = Date.now();
    if ('result' in outcome) Object.assign(record.view, { state: 'completed', result: outcome.result });
    else Object.assign(record.view, { state: 'failed', failedReason: outcome.failedReason });
    record.view.finishedAt = new Date(now).toISOString();
    record.finishedAtMs = now;
    this.finished.add(id);
    this.forgetExpiredJobs();
  }

  /** Drops finished jobs past their time, then the oldest beyond the cap. */
  private forgetExpiredJobs(): void {
    const expiredBefore = Date.now() - this.keepFinishedMs;
    for (const id of this.finished) {
      const expired = this.records.get(id)!.finishedAtMs < expiredBefore;
      if (!expired && this.finished.size <= this.maxFinishedJobs) break;
      this.finished.delete(id);
      this.records.delete(id);
    }
  }
}
