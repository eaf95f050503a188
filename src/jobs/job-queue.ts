/**
 * The background job port. A queue runs each job through the processor it
 * was built with; InProcessJobQueue (the default) and BullMqJobQueue (with
 * REDIS_URL) implement it, and one contract suite
 * (test/jobs/job-queue.contract.ts) runs against both.
 *
 * A job belongs to the owner that added it: `get` and `list` answer only
 * that owner's jobs, so another user's job id looks like an unknown one.
 */

/** One kind of job and its payload; a queue's spec is a union of these. */
export interface JobSpec {
  kind: string;
  payload: unknown;
}

/** `waiting` covers everything not yet started (BullMQ's delayed and prioritized too). */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobView<Result, Kind extends string = string> {
  id: string;
  kind: Kind;
  state: JobState;
  /** 0 to 100, as the processor reported it. */
  progress: number;
  /** null until the job has completed. */
  result: Result | null;
  /** The safe message of the error that failed the job; null unless failed. */
  failedReason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** A job as its processor sees it. */
export type RunningJob<Spec extends JobSpec> = Spec & { id: string; owner: string };

export interface JobContext {
  /** Records progress (0 to 100); each call is a write, so report milestones, not tokens. */
  reportProgress(progress: number): Promise<void>;
  /** Fires when the queue shuts down while the job runs. */
  signal: AbortSignal;
}

/**
 * Does a job's work. A thrown AppError's message becomes the job's
 * failedReason; any other error fails it as "Internal server error".
 */
export type JobProcessor<Spec extends JobSpec, Result> = (job: RunningJob<Spec>, context: JobContext) => Promise<Result>;

export interface JobQueue<Spec extends JobSpec, Result> {
  /** Queues a job and answers its id (a UUID). */
  add<Kind extends Spec['kind']>(owner: string, kind: Kind, payload: Extract<Spec, { kind: Kind }>['payload']): Promise<string>;
  /** undefined unless the job exists and belongs to the owner. */
  get(owner: string, id: string): Promise<JobView<Result, Spec['kind']> | undefined>;
  /** The owner's newest jobs still kept (at most listedJobsLimit), newest first. */
  list(owner: string): Promise<JobView<Result, Spec['kind']>[]>;
  /** How many jobs wait and run now, across owners (read at scrape time, for the metrics). */
  depth(): Promise<JobQueueDepth>;
  /** Stops taking jobs and waits for the running ones to end. */
  close(): Promise<void>;
}

export interface JobQueueDepth {
  /** Not yet started (BullMQ's delayed and prioritized too). */
  waiting: number;
  active: number;
}

/**
 * Told once per job that ran, when it ends (the Prometheus metrics watch
 * it); a job that never started (dropped at shutdown) is not a run.
 */
export interface JobObserver {
  jobEnded(run: JobRun): void;
}

export interface JobRun {
  kind: string;
  status: 'completed' | 'failed';
  /** From the processor's start to its end; the time spent waiting is not in it. */
  durationMs: number;
}

/**
 * Rebuilds a job from what a queue kept of it. `add` checked the kind and
 * payload as a pair of Spec; stored apart, the compiler no longer sees them
 * as one, hence the cast.
 */
export function runningJob<Spec extends JobSpec>(id: string, owner: string, kind: string, payload: unknown): RunningJob<Spec> {
  return { id, owner, kind, payload } as unknown as RunningJob<Spec>;
}

/** How many of an owner's jobs `list` answers at most. */
export const listedJobsLimit = 100;

/** Progress as a whole number from 0 to 100, whatever a processor reported. */
export function clampProgress(progress: number): number {
  if (!Number.isFinite(progress)) return 0;
  return Math.min(100, Math.max(0, Math.round(progress)));
}
