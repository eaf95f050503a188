import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';

/** How long a turn waits on Redis (rate limits, reply slots, budget reservations) before counting in memory instead. */
const commandTimeoutMs = 1_000;
/** How long start-up waits for the first connection before serving with the limits in memory. */
const firstConnectionMs = 2_000;
/** How often a live connection is checked; one that does not answer in time is dropped and reconnected. */
const watchdogMs = 1_000;

/**
 * The Redis connection every turn asks for its limits. Nothing may wait on
 * it: with no offline queue a command fails at once while the connection is
 * down (a stopped Redis, a network cut) and the limiter counts in memory;
 * an answer slower than a second (a paused or hung Redis) fails the same
 * way, and the watchdog then drops the connection: until a new one passes
 * ioredis's ready check (which a paused Redis does not answer), commands
 * fail at once instead of each waiting out its timeout. It reconnects by
 * itself, and the limits are shared again once it has.
 */
export async function openLimitsRedis(url: string, logger: Logger): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs, enableOfflineQueue: false });
  // Without a listener ioredis prints every connection error to stderr.
  redis.on('error', (error: Error) => logger.warn({ error: error.message }, 'limits: redis connection error; counting in memory'));
  // Without an offline queue, turns admitted before the first connection would count in memory: wait for it, briefly.
  const connected = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), firstConnectionMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!connected) logger.warn({}, 'limits: redis is not reachable yet; counting in memory until it is');
  watchConnection(redis, logger);
  return redis;
}

function watchConnection(redis: Redis, logger: Logger): void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking || redis.status !== 'ready') return;
    checking = true;
    redis.ping().then(
      () => (checking = false),
      (error: Error) => {
        checking = false;
        if (redis.status !== 'ready') return;
        logger.warn({ error: error.message }, 'limits: redis stopped answering; reconnecting, counting in memory meanwhile');
        redis.disconnect(true);
      },
    );
  }, watchdogMs);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
}
