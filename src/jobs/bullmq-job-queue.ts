import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { AppError, toAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  clampProgress,
  listedJobsLimit,
  type JobObserver,
  type JobProcessor,
  type JobQueue,
  type JobQueueDepth,
  type JobSpec,
  type JobState,
  type JobView,
  runningJob,
} from './job-queue.js';

export interface BullMqJobQueueOptions<Spec extends JobSpec, Result> {
  redisUrl: string;
  /** BullMQ's queue name; the seed calls its queue `ai-tasks`. */
  queueName: string;
  /** Prefix of every Redis key of the queue, so deployments (and test runs) sharing one Redis stay apart. */
  prefix: string;
  processor: JobProcessor<Spec, Result>;
  concurrency: number;
  logger: Logger;
  keepFinishedSeconds?: number;
  maxFinishedJobs?: number;
  /** Told when each job this instance's worker ran ends. */
  observer?: JobObserver;
}

/** What a job carries in Redis: its owner, so reads can refuse other users. */
interface JobData {
  owner: string;
  payload: unknown;
}

/** BullMQ's states of a job not yet started, all `waiting` to Parley. */
const waitingStates = ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

/** Owner indexes outlive finished jobs a while, for owners who add nothing new. */
const ownerIndexSeconds = 24 * 60 * 60;

/** How long a job request waits on Redis before answering 503. */
const redisAnswerTimeoutMs = 3_000;

/** How long shutdown waits for the worker's Redis connections to come back after an outage. */
const reconnectWaitOnCloseMs = 2_000;

/**
 * Jobs on Redis through BullMQ: one Queue and one Worker. Waiting jobs
 * survive a restart. Each job runs at most once (no retries, stalled jobs
 * fail): re-running a completion would store its user message twice.
 * Each owner's job ids are kept in a sorted set, so listing them reads only
 * that owner's jobs.
 */
export class BullMqJobQueue<Spec extends JobSpec, Result> implements JobQueue<Spec, Result> {
  private constructor(
    private readonly queue: Queue<JobData, Result>,
    private readonly worker: Worker<JobData, Result>,
    private readonly redis: Redis,
  ) {}

  /** Connects first, so a wrong REDIS_URL fails at startup rather than on the first job. */
  static async open<Spec extends JobSpec, Result>(options: BullMqJobQueueOptions<Spec, Result>): Promise<BullMqJobQueue<Spec, Result>> {
    // Requests fail fast while Redis is away instead of waiting on it; the worker waits.
    const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', (error: Error) => options.logger.warn({ error: error.message }, 'job queue: redis connection error'));
    try {
      await redis.connect();
    } catch (error) {
      // Without this the client would go on reconnecting in the background.
      redis.disconnect();
      throw error;
    }
    const keep = { age: options.keepFinishedSeconds ?? 60 * 60, count: options.maxFinishedJobs ?? 1000 };
    const queue = new Queue<JobData, Result>(options.queueName, {
      connection: redis,
      prefix: options.prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: keep, removeOnFail: keep },
    });
    const worker = new Worker<JobData, Result>(
      options.queueName,
      (job, _token, signal) => runJob(options.processor, job, signal, options.observer),
      {
        connection: { url: options.redisUrl, maxRetriesPerRequest: null },
        prefix: options.prefix,
        concurrency: options.concurrency,
        maxStalledCount: 0,
      },
    );
    const logError = (error: Error) => options.logger.warn({ error: error.message }, 'job queue error');
    queue.on('error', logError);
    worker.on('error', logError);
    return new BullMqJobQueue(queue, worker, redis);
  }

  add<Kind extends Spec['kind']>(owner: string, kind: Kind, payload: Extract<Spec, { kind: Kind }>['payload']): Promise<string> {
    return this.whileRedisAnswers(() => this.addJob(owner, kind, payload));
  }

  get(owner: string, id: string): Promise<JobView<Result, Spec['kind']> | undefined> {
    return this.whileRedisAnswers(() => this.getJob(owner, id));
  }

  list(owner: string): Promise<JobView<Result, Spec['kind']>[]> {
    return this.whileRedisAnswers(() => this.listJobs(owner));
  }

  /** Across every instance sharing the queue: the counts are Redis's. */
  depth(): Promise<JobQueueDepth> {
    return this.whileRedisAnswers(async () => {
      const counts = await this.queue.getJobCounts(...waitingStates, 'active');
      return { waiting: waitingStates.reduce((sum, state) => sum + (counts[state] ?? 0), 0), active: counts.active ?? 0 };
    });
  }

  private async addJob<Kind extends Spec['kind']>(
    owner: string,
    kind: Kind,
    payload: Extract<Spec, { kind: Kind }>['payload'],
  ): Promise<string> {
    const id = randomUUID();
    const index = this.ownerIndex(owner);
    // Indexed first: an id whose job never got added is pruned by list, while a job missing from the index would never be listed.
    await this.redis
      .multi()
      .zadd(index, Date.now(), id)
      .zremrangebyrank(index, 0, -(listedJobsLimit + 1))
      .expire(index, ownerIndexSeconds)
      .exec();
    await this.queue.add(kind, { owner, payload }, { jobId: id });
    return id;
  }

  private async getJob(owner: string, id: string): Promise<JobView<Result, Spec['kind']> | undefined> {
    const job = await this.queue.getJob(id);
    if (job === undefined || job.data.owner !== owner) return undefined;
    return viewOf<Spec, Result>(job);
  }

  private async listJobs(owner: string): Promise<JobView<Result, Spec['kind']>[]> {
    const index = this.ownerIndex(owner);
    const ids = await this.redis.zrevrange(index, 0, listedJobsLimit - 1);
    const views = await Promise.all(ids.map((id) => this.getJob(owner, id)));
    const gone = ids.filter((_, position) => views[position] === undefined);
    // Finished jobs BullMQ has removed leave their ids behind in the index.
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    return views.filter((view) => view !== undefined);
  }

  /**
   * Cancels running jobs (their signal fires); waiting jobs stay in Redis for the next start.
   * BullMQ's graceful close waits forever on a connection that is still
   * reconnecting (bullmq#4656), so after an outage it is used only once the
   * worker's connections answer again; if Redis stays away the worker is
   * closed by force, as nothing could be recorded in Redis anyway.
   */
  async close(): Promise<void> {
    this.worker.cancelAllJobs('The server shut down while the job was running');
    const connected = await this.workerConnectedWithin(reconnectWaitOnCloseMs);
    await this.worker.close(!connected);
    await this.queue.close();
    // A connection that closes while quitting ("Connection is closed") has ended all the same.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private async workerConnectedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    const clients = await Promise.race([
      Promise.all([this.worker.backend.client, this.worker.backend.blockingClient]),
      setTimeout(ms, undefined),
    ]);
    if (clients === undefined) return false;
    while (!clients.every((client) => client === undefined || client.status === 'ready')) {
      if (Date.now() >= deadline) return false;
      await setTimeout(20);
    }
    return true;
  }

  /**
   * While Redis is disconnected the job endpoints answer at once with 503
   * service_unavailable (the client may retry) instead of waiting on
   * reconnection attempts; a failure because the connection dropped midway
   * is reported the same way, not as a bug, and so is a Redis that stops
   * answering without closing the connection (after redisAnswerTimeoutMs;
   * the command may still complete later).
   */
  private async whileRedisAnswers<T>(work: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw queueUnavailable(undefined);
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_resolve, reject) => {
      timer = globalThis.setTimeout(() => reject(queueUnavailable(undefined)), redisAnswerTimeoutMs);
    });
    try {
      return await Promise.race([work(), silence]);
    } catch (error) {
      // A failure of the work itself, with Redis answering, is a bug; the rest is Redis being away.
      if (isQueueUnavailable(error) || this.redis.status === 'ready') throw error;
      throw queueUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private ownerIndex(owner: string): string {
    return this.queue.toKey(`owner:${owner}`);
  }
}

function isQueueUnavailable(error: unknown): boolean {
  return error instanceof AppError && error.code === 'service_unavailable';
}

function queueUnavailable(cause: unknown): AppError {
  return new AppError('service_unavailable', 'The job queue is unavailable: its Redis cannot be reached. Try again later.', {
    cause,
    retryable: true,
  });
}

async function runJob<Spec extends JobSpec, Result>(
  processor: JobProcessor<Spec, Result>,
  job: Job<JobData, Result>,
  signal: AbortSignal | undefined,
  observer: JobObserver | undefined,
): Promise<Result> {
  const running = runningJob<Spec>(job.id!, job.data.owner, job.name, job.data.payload);
  const context = {
    reportProgress: (progress: number) => job.updateProgress(clampProgress(progress)),
    signal: signal ?? new AbortController().signal,
  };
  const startedAt = performance.now();
  const ended = (status: 'completed' | 'failed') =>
    observer?.jobEnded({ kind: job.name, status, durationMs: performance.now() - startedAt });
  try {
    const result = await processor(running, context);
    ended('completed');
    return result;
  } catch (error) {
    ended('failed');
    // The safe message only: BullMQ stores it as failedReason, and retrying would repeat the turn.
    throw new UnrecoverableError(toAppError(error).message);
  }
}

async function viewOf<Spec extends JobSpec, Result>(job: Job<JobData, Result>): Promise<JobView<Result, Spec['kind']> | undefined> {
  const state = await job.getState();
  if (state === 'unknown') return undefined;
  const jobState = toJobState(state);
  return {
    id: job.id!,
    // Jobs are added under their kind as BullMQ's job name.
    kind: job.name as Spec['kind'],
    state: jobState,
    progress: typeof job.progress === 'number' ? job.progress : 0,
    result: jobState === 'completed' ? job.returnvalue : null,
    failedReason: jobState === 'failed' ? job.failedReason : null,
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
  };
}

function toJobState(state: string): JobState {
  return state === 'active' || state === 'completed' || state === 'failed' ? state : 'waiting';
}
