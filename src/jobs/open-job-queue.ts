import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import { InProcessJobQueue } from './in-process-job-queue.js';
import type { JobObserver, JobProcessor, JobQueue, JobSpec } from './job-queue.js';

/** BullMQ on Redis when REDIS_URL is set, else jobs in this process. */
export async function openJobQueue<Spec extends JobSpec, Result>(
  config: Pick<Config, 'redisUrl' | 'jobs'>,
  queueName: string,
  processor: JobProcessor<Spec, Result>,
  logger: Logger,
  observer?: JobObserver,
): Promise<JobQueue<Spec, Result>> {
  const { concurrency, queuePrefix } = config.jobs;
  if (config.redisUrl === undefined) return new InProcessJobQueue({ processor, concurrency, observer });
  // BullMQ and its Redis client load only when Redis is configured.
  const { BullMqJobQueue } = await import('./bullmq-job-queue.js');
  try {
    return await BullMqJobQueue.open({
      redisUrl: config.redisUrl,
      queueName,
      prefix: queuePrefix,
      processor,
      concurrency,
      logger,
      observer,
    });
  } catch (error) {
    // The URL may hold a password: name the variable, not its value.
    throw new Error(`Cannot connect to the Redis named by REDIS_URL: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
