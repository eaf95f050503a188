/**
 * The behaviour every JobQueue implementation shares. Each implementation's
 * test file calls jobQueueContract with a factory that opens a queue of
 * concurrency 1 around the given processor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import type { JobObserver, JobProcessor, JobQueue, JobRun, JobView } from '../../src/jobs/job-queue.js';

export type TestJob =
  { kind: 'echo'; payload: { text: string; hold?: boolean; fail?: 'app-error' | 'bug' } } | { kind: 'shout'; payload: { text: string } };

export interface TestResult {
  text: string;
  jobId: string;
  owner: string;
}

export interface OpenedQueue {
  queue: JobQueue<TestJob, TestResult>;
  /** Closes the queue and removes whatever it stored. */
  close(): Promise<void>;
}

/** `observer` is told of every job the queue ran, as the metrics are. */
export type OpenQueue = (processor: JobProcessor<TestJob, TestResult>, observer: JobObserver) => Promise<OpenedQueue>;

/** Held jobs wait for their text to be released, so a test can look at them mid-run. */
class Gates {
  private readonly waiting = new Map<string, () => void>();

  hold(text: string): Promise<void> {
    return new Promise((resolve) => this.waiting.set(text, resolve));
  }

  release(text: string): void {
    this.waiting.get(text)?.();
    this.waiting.delete(text);
  }

  releaseAll(): void {
    for (const text of [...this.waiting.keys()]) this.release(text);
  }
}

const testProcessor =
  (gates: Gates): JobProcessor<TestJob, TestResult> =>
  async (job, context) => {
    await context.reportProgress(10);
    if (job.kind === 'shout') return { text: job.payload.text.toUpperCase(), jobId: job.id, owner: job.owner };
    if (job.payload.hold === true) await gates.hold(job.payload.text);
    if (job.payload.fail === 'app-error') throw new AppError('provider_error', 'The upstream refused the request');
    if (job.payload.fail === 'bug') throw new Error('password=hunter2 leaked from a stack');
    await context.reportProgress(100);
    return { text: job.payload.text, jobId: job.id, owner: job.owner };
  };

export function jobQueueContract(name: string, open: OpenQueue): void {
  describe(`${name} (job queue contract)`, () => {
    let opened: OpenedQueue;
    let queue: JobQueue<TestJob, TestResult>;
    const gates = new Gates();
    let runs: JobRun[];

    beforeEach(async () => {
      runs = [];
      opened = await open(testProcessor(gates), { jobEnded: (run) => runs.push(run) });
      queue = opened.queue;
    });
    afterEach(async () => {
      gates.releaseAll();
      await opened.close();
    });

    async function settled(owner: string, id: string): Promise<JobView<TestResult>> {
      await expect.poll(async () => (await queue.get(owner, id))?.state, { timeout: 5_000, interval: 20 }).toMatch(/completed|failed/);
      return (await queue.get(owner, id))!;
    }

    it('runs a job to completed with its result, the processor seeing its id and owner', async () => {
      const id = await queue.add('alice', 'echo', { text: 'hello' });
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const view = await settled('alice', id);
      expect(view).toMatchObject({ id, kind: 'echo', state: 'completed', progress: 100, failedReason: null });
      expect(view.result).toEqual({ text: 'hello', jobId: id, owner: 'alice' });
      expect(Date.parse(view.createdAt)).toBeLessThanOrEqual(Date.parse(view.finishedAt!));
    });

    it('passes each kind with its own payload to the processor', async () => {
      const id = await queue.add('alice', 'shout', { text: 'quiet' });
      const view = await settled('alice', id);
      expect(view).toMatchObject({ kind: 'shout', state: 'completed' });
      expect(view.result?.text).toBe('QUIET');
    });

    it('reports progress while a job runs and keeps later jobs waiting beyond the concurrency', async () => {
      const first = await queue.add('alice', 'echo', { text: 'slow', hold: true });
      await expect
        .poll(async () => await queue.get('alice', first), { timeout: 5_000, interval: 20 })
        .toMatchObject({
          state: 'active',
          progress: 10,
          result: null,
          finishedAt: null,
        });
      const second = await queue.add('alice', 'echo', { text: 'next' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await queue.get('alice', second)).toMatchObject({ state: 'waiting', progress: 0, result: null });

      gates.release('slow');
      expect(await settled('alice', first)).toMatchObject({ state: 'completed', progress: 100 });
      expect(await settled('alice', second)).toMatchObject({ state: 'completed', result: { text: 'next' } });
    });

    it("fails a job with the AppError's message as failedReason", async () => {
      const id = await queue.add('alice', 'echo', { text: 'doomed', fail: 'app-error' });
      const view = await settled('alice', id);
      expect(view).toMatchObject({ state: 'failed', failedReason: 'The upstream refused the request', result: null, progress: 10 });
    });

    it('fails a job that hit a bug with a generic reason that hides the error', async () => {
      const id = await queue.add('alice', 'echo', { text: 'buggy', fail: 'bug' });
      const view = await settled('alice', id);
      expect(view.state).toBe('failed');
      expect(view.failedReason).toBe('Internal server error');
    });

    it("never shows one owner's job to another, by id or in a list", async () => {
      const id = await queue.add('alice', 'echo', { text: 'private' });
      await settled('alice', id);
      expect(await queue.get('mallory', id)).toBeUndefined();
      expect(await queue.list('mallory')).toEqual([]);
      expect((await queue.list('alice')).map((view) => view.id)).toEqual([id]);
    });

    it("lists an owner's jobs newest first", async () => {
      const older = await queue.add('alice', 'echo', { text: 'one' });
      await settled('alice', older);
      const newer = await queue.add('alice', 'shout', { text: 'two' });
      await settled('alice', newer);
      await queue.add('bob', 'echo', { text: 'not alice' });
      const listed = await queue.list('alice');
      expect(listed.map((view) => view.id)).toEqual([newer, older]);
      expect(listed[0]).toMatchObject({ kind: 'shout', state: 'completed', result: { text: 'TWO' } });
    });

    it('answers its depth (waiting and active jobs) and tells its observer of each run with its kind, status and duration', async () => {
      expect(await queue.depth()).toEqual({ waiting: 0, active: 0 });
      const held = await queue.add('alice', 'echo', { text: 'hold the line', hold: true });
      await expect.poll(async () => (await queue.get('alice', held))?.state, { timeout: 5_000, interval: 20 }).toBe('active');
      const queued = await queue.add('bob', 'shout', { text: 'after you' });
      const failing = await queue.add('bob', 'echo', { text: 'nope', fail: 'app-error' });
      expect(await queue.depth()).toEqual({ waiting: 2, active: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      gates.release('hold the line');
      for (const [owner, id] of [
        ['alice', held],
        ['bob', queued],
        ['bob', failing],
      ] as const)
        await settled(owner, id);
      await expect.poll(() => runs.length, { timeout: 5_000, interval: 20 }).toBe(3);
      expect(runs.map(({ kind, status }) => `${kind} ${status}`)).toEqual(['echo completed', 'shout completed', 'echo failed']);
      // The held job ran for the 50 ms it was held, not counting the others' wait.
      expect(runs[0]!.durationMs).toBeGreaterThanOrEqual(45);
      expect(await queue.depth()).toEqual({ waiting: 0, active: 0 });
    });

    it('answers undefined for an id that was never added', async () => {
      expect(await queue.get('alice', '00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });
  });
}
