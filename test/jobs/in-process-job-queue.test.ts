import { describe, expect, it } from 'vitest';
import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue.js';
import type { JobContext } from '../../src/jobs/job-queue.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('InProcessJobQueue', async (processor, observer) => {
  const queue = new InProcessJobQueue({ processor, concurrency: 1, observer });
  return { queue, close: () => queue.close() };
});

type Spec = { kind: 'work'; payload: { name: string } };

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('InProcessJobQueue', () => {
  it('keeps only the newest finished jobs beyond its cap', async () => {
    const queue = new InProcessJobQueue<Spec, string>({ processor: async (job) => job.payload.name, concurrency: 2, maxFinishedJobs: 2 });
    const ids = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push(await queue.add('alice', 'work', { name }));
      await settle();
    }
    expect(await queue.get('alice', ids[0]!)).toBeUndefined();
    expect((await queue.list('alice')).map((view) => view.result)).toEqual(['c', 'b']);
    await queue.close();
  });

  it('forgets finished jobs once they are older than the retention time', async () => {
    const queue = new InProcessJobQueue<Spec, string>({ processor: async (job) => job.payload.name, concurrency: 1, keepFinishedMs: 300 });
    const id = await queue.add('alice', 'work', { name: 'short-lived' });
    await settle();
    expect((await queue.get('alice', id))?.state).toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await queue.get('alice', id)).toBeUndefined();
    await queue.close();
  });

  it('never runs more jobs at once than its concurrency', async () => {
    let running = 0;
    let most = 0;
    const processor = async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running -= 1;
      return 'done';
    };
    const queue = new InProcessJobQueue<Spec, string>({ processor, concurrency: 3 });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, index) => queue.add('alice', 'work', { name: `job${index}` })));
    await expect.poll(async () => (await queue.list('alice')).every((view) => view.state === 'completed'), { timeout: 2_000 }).toBe(true);
    expect(ids).toHaveLength(10);
    expect(most).toBe(3);
    await queue.close();
  });

  it('refuses new jobs with rate_limited while too many are waiting', async () => {
    const queue = new InProcessJobQueue<Spec, string>({ processor: () => new Promise(() => {}), concurrency: 1, maxWaitingJobs: 1 });
    await queue.add('alice', 'work', { name: 'running' });
    await queue.add('alice', 'work', { name: 'waiting' });
    await expect(queue.add('alice', 'work', { name: 'one too many' })).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('cancels running jobs through their signal on close and fails the waiting ones', async () => {
    const seen: JobContext[] = [];
    const processor = (_job: unknown, context: JobContext) =>
      new Promise<string>((_resolve, reject) => {
        seen.push(context);
        context.signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const queue = new InProcessJobQueue<Spec, string>({ processor, concurrency: 1 });
    const running = await queue.add('alice', 'work', { name: 'running' });
    const waiting = await queue.add('alice', 'work', { name: 'waiting' });
    await queue.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.signal.aborted).toBe(true);
    expect((await queue.get('alice', running))?.state).toBe('failed');
    expect(await queue.get('alice', waiting)).toMatchObject({
      state: 'failed',
      failedReason: 'The server shut down before the job started',
    });
    await expect(queue.add('alice', 'work', { name: 'late' })).rejects.toThrow(/shutting down/);
  });
});
