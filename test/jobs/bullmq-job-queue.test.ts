import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { BullMqJobQueue } from '../../src/jobs/bullmq-job-queue.js';
import type { JobContext, JobObserver, JobProcessor, JobSpec } from '../../src/jobs/job-queue.js';
import { checkRedis, redisUrl, requireService } from '../support/services.js';
import { jobQueueContract } from './job-queue.contract.js';
import { redisTestPrefix } from '../support/redis-test-prefix.js';

const available = await requireService('Redis', () => checkRedis());
const logger = pino({ level: 'silent' });

async function openQueue<Spec extends JobSpec, Result>(processor: JobProcessor<Spec, Result>, observer?: JobObserver) {
  const keys = redisTestPrefix();
  const queue = await BullMqJobQueue.open({
    redisUrl: redisUrl(),
    queueName: 'ai-tasks',
    prefix: keys.prefix,
    processor,
    concurrency: 1,
    logger,
    observer,
  });
  return {
    queue,
    keys,
    async close() {
      await queue.close();
      await keys.remove();
    },
  };
}

describe.skipIf(!available)('BullMqJobQueue on the real Redis', () => {
  jobQueueContract('BullMqJobQueue', openQueue);

  it('keeps every key under its own prefix, so runs sharing one Redis stay apart', async () => {
    const opened = await openQueue<{ kind: 'work'; payload: null }, string>(async () => 'done');
    const id = await opened.queue.add('alice', 'work', null);
    await expect.poll(async () => (await opened.queue.get('alice', id))?.state).toBe('completed');
    const keys = await opened.keys.keys();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(`${opened.keys.prefix}:ai-tasks:`))).toBe(true);
    await opened.close();
    expect(await opened.keys.keys()).toEqual([]);
  });

  it('refuses to open when Redis cannot be reached, rather than failing on the first job', async () => {
    const opening = BullMqJobQueue.open({
      redisUrl: 'redis://127.0.0.1:1',
      queueName: 'ai-tasks',
      prefix: 'parley-test-unreachable',
      processor: async () => null,
      concurrency: 1,
      logger,
    });
    await expect(opening).rejects.toThrow();
  });

  it('cancels a running job through its signal on close and fails it with the reason', async () => {
    let context: JobContext | undefined;
    const processor = (_job: unknown, jobContext: JobContext) =>
      new Promise<string>((_resolve, reject) => {
        context = jobContext;
        jobContext.signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const opened = await openQueue<{ kind: 'work'; payload: null }, string>(processor);
    const id = await opened.queue.add('alice', 'work', null);
    await expect.poll(() => context !== undefined).toBe(true);
    await opened.queue.close();
    expect(context!.signal.aborted).toBe(true);
    const reopened = await BullMqJobQueue.open({
      redisUrl: redisUrl(),
      queueName: 'ai-tasks',
      prefix: opened.keys.prefix,
      processor: async () => '',
      concurrency: 1,
      logger,
    });
    expect(await reopened.get('alice', id)).toMatchObject({ state: 'failed', failedReason: 'Internal server error' });
    await reopened.close();
    await opened.keys.remove();
  });
});
