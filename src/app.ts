import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Server as SocketServer } from 'socket.io';
import { Authenticator } from './auth/authenticator.js';
import type { Config } from './config/config.js';
import { ChatEngine } from './core/chat-engine.js';
import { TurnGuard } from './core/turn-guard.js';
import { LocalConcurrencyLimiter } from './limits/concurrency-limiter.js';
import { FlexibleRateLimiter } from './limits/rate-limiter.js';
import { RedisConcurrencyLimiter } from './limits/redis-concurrency-limiter.js';
import { buildServer } from './http/server.js';
import { openJobQueue } from './jobs/open-job-queue.js';
import { attachSocketServer } from './realtime/socket-server.js';
import { aiJobProcessor } from './transports/ai-module-rest/ai-jobs.js';
import { socketSurfaces } from './transports/socket-surfaces.js';
import { ProviderRegistry } from './providers/provider-registry.js';
import type { ChatStore } from './store/chat-store.js';
import { startGuestRetention } from './store/guest-retention.js';
import { openChatStore } from './store/open-chat-store.js';
import { openSpeechEngines } from './voice/open-speech-engines.js';

export interface App {
  server: FastifyInstance;
  io: SocketServer;
  store: ChatStore;
  providers: ProviderRegistry;
  authenticator: Authenticator;
  logger: Logger;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Tests point the store at their own Postgres schema. */
  postgresSchema?: string;
}

/** How long a turn waits on Redis (rate limits, reply slots) before counting in memory instead. */
const redisCommandTimeoutMs = 1_000;

/** Assembles store, providers, engine and transports from a parsed config. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const speech = openSpeechEngines(config.voice, config.providers.openai);
  const store = await openChatStore(
    config.databaseUrl,
    options.postgresSchema === undefined ? {} : { postgresSchema: options.postgresSchema },
  );
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  const providers = await ProviderRegistry.open(config);
  const authenticator = new Authenticator({
    jwtSecret: config.jwtSecret,
    jwksUrl: config.jwksUrl,
    findApiKeyOwner: (keyHash) => store.findApiKeyOwner(keyHash),
  });
  // Loaded only with REDIS_URL: a single instance never needs the client.
  const redis =
    config.redisUrl === undefined
      ? undefined
      : // Every turn asks this Redis (rate limits, reply slots): one that stops answering must not hold turns up.
        new (await import('ioredis')).Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: redisCommandTimeoutMs });
  // Without a listener ioredis prints every connection error to stderr; the limiter falls back to memory meanwhile.
  redis?.on('error', (error: Error) => logger.warn({ error: error.message }, 'rate limits: redis connection error'));
  const rateLimiter = new FlexibleRateLimiter(config.rateLimits, redis);
  // A reply cannot outlive the provider's total timeout; its slot's lease lasts a minute longer.
  const concurrency =
    redis === undefined
      ? new LocalConcurrencyLimiter()
      : new RedisConcurrencyLimiter(redis, config.rateLimits.redisKeyPrefix, config.resilience.timeouts.totalMs + 60_000, logger);
  const guard = new TurnGuard(config.limits, store, providers.moderation(), rateLimiter, concurrency);
  if (config.limits.moderationModel !== undefined && providers.moderation() === undefined) {
    logger.warn('MODERATION=true needs the OpenAI provider (OPENAI_API_KEY or OPENAI_BASE_URL); messages are not moderated');
  }
  const engine = new ChatEngine({ store, providers, guard, defaultContextWindow: config.defaultContextWindow, logger });
  const processAiJob = aiJobProcessor({ engine, providers, settings: config.surfaces.aiModule });
  const aiJobs = await openJobQueue(config, 'ai-tasks', processAiJob, logger).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const dependencies = { config, engine, store, providers, authenticator, rateLimiter, logger, aiJobs, speech };
  const server = await buildServer(dependencies, logger);
  const io = attachSocketServer(server.server, dependencies, socketSurfaces);
  const guestRetention = startGuestRetention(store, config.guestRetentionDays, logger);
  // Open sockets would keep the HTTP server from closing.
  server.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
  });
  return {
    server,
    io,
    store,
    providers,
    authenticator,
    logger,
    async close() {
      // Open streams get a grace period to finish; then their connections are closed
      // (their turns see the disconnect and store what they have as interrupted).
      const deadline = setTimeout(() => server.server.closeAllConnections(), config.shutdownGraceMs);
      await server.close();
      clearTimeout(deadline);
      // Running jobs end (a cancelled completion stores its partial reply) before the store closes.
      await aiJobs.close();
      await guestRetention.stop();
      await store.close();
      redis?.disconnect();
    },
  };
}

/** Keys and tokens never reach the log, even when a header is logged by mistake. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', 'apiKey', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
