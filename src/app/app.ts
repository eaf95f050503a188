import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Server as SocketServer } from 'socket.io';
import { Authenticator } from '../auth/authenticator.js';
import { UserAccessList } from '../auth/user-access-list.js';
import { UserAccessSync } from '../auth/user-access-sync.js';
import type { Config } from '../config/config.js';
import { Turns } from '../chat/turns.js';
import { BackgroundTasks } from '../chat/background-tasks.js';
import { ChatEngine } from '../chat/chat-engine.js';
import { ConversationTitles } from '../chat/conversation-titles.js';
import { AppError } from '../core/errors.js';
import { TurnGuard } from '../chat/turn-guard.js';
import { LocalBudgetLedger } from '../limits/budget-ledger.js';
import { LocalConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import { FlexibleRateLimiter } from '../limits/rate-limiter.js';
import { openLimitsRedis } from '../limits/limits-redis.js';
import { RedisTurnLogs } from '../chat/redis-turn-logs.js';
import { RedisBudgetLedger } from '../limits/redis-budget-ledger.js';
import { RedisConcurrencyLimiter } from '../limits/redis-concurrency-limiter.js';
import { buildServer } from './http-server.js';
import { RouteTable, type RegisteredRoute } from '../http/route-table.js';
import { openJobQueue } from '../jobs/open-job-queue.js';
import { attachSocketServer } from './socket-server.js';
import { aiJobProcessor } from '../transports/ai-module-rest/ai-jobs.js';
import { socketEventTable, socketSurfaces } from './socket-surfaces.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import type { ChatStore } from '../store/chat-store.js';
import { startAbandonedReplySweep } from '../store/abandoned-replies.js';
import { startGuestRetention } from '../store/guest-retention.js';
import { openChatStore } from '../store/open-chat-store.js';
import { openSpeechEngines } from '../voice/open-speech-engines.js';
import { Readiness } from '../operations/readiness.js';
import { settlesWithin } from '../core/settles-within.js';
import { Metrics } from '../operations/metrics.js';
import { isSignedInAs } from '../realtime/signed-in-users.js';

export interface App {
  server: FastifyInstance;
  io: SocketServer;
  store: ChatStore;
  providers: ProviderRegistry;
  authenticator: Authenticator;
  logger: Logger;
  /** The chat engine: how many turns run now, for benchmarks and tests. */
  engine: ChatEngine;
  /** Every HTTP route registered, for suites generated from it. */
  routes: readonly RegisteredRoute[];
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Tests point the store at their own Postgres schema. */
  postgresSchema?: string;
}

/** Assembles store, providers, engine and transports from a parsed config. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const speech = openSpeechEngines(config.voice, config.providers.openai);
  const store = await openChatStore(config.databaseUrl, {
    ...(options.postgresSchema === undefined ? {} : { postgresSchema: options.postgresSchema }),
    timeoutMs: config.databaseTimeoutMs,
    onConnectionLost: (error) => logger.warn({ error: error.message }, 'lost a database connection; the pool replaces it'),
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  const providers = await ProviderRegistry.open(config);
  // Who admins disabled or gave limits of their own, in memory: a request looks them up, never reads them.
  const access = new UserAccessList();
  const authenticator = new Authenticator({
    jwtSecret: config.jwtSecret,
    jwksUrl: config.jwksUrl,
    findApiKeyOwner: (keyHash) => store.findApiKeyOwner(keyHash),
    access,
  });
  // Loaded only with REDIS_URL: a single instance never needs the client.
  const redis = config.redisUrl === undefined ? undefined : await openLimitsRedis(config.redisUrl, logger);
  const userAccess = await UserAccessSync.start({ list: access, store, logger, redis, prefix: config.durability.redisPrefix }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  const rateLimiter = new FlexibleRateLimiter(config.rateLimits, redis);
  // A reply cannot outlive the provider's total timeout; its slot's lease lasts a minute longer.
  const concurrency =
    redis === undefined
      ? new LocalConcurrencyLimiter()
      : new RedisConcurrencyLimiter(redis, config.rateLimits.redisKeyPrefix, config.resilience.timeouts.totalMs + 60_000, logger);
  const budgets =
    redis === undefined
      ? new LocalBudgetLedger()
      : new RedisBudgetLedger(redis, config.rateLimits.redisKeyPrefix, config.resilience.timeouts.totalMs + 60_000, logger);
  const guard = new TurnGuard(config.limits, store, providers.moderation(), rateLimiter, concurrency, budgets, access);
  if (config.limits.moderationModel !== undefined && providers.moderation() === undefined) {
    logger.warn('MODERATION=true needs the OpenAI provider (OPENAI_API_KEY or OPENAI_BASE_URL); messages are not moderated');
  }
  // With several instances, turns are mirrored to Redis: any instance resumes or stops any turn.
  const turnLogs =
    redis === undefined
      ? undefined
      : new RedisTurnLogs(
          redis,
          {
            prefix: config.durability.redisPrefix,
            retentionMs: config.durability.turnLogRetentionMs,
            runningTtlMs: config.resilience.timeouts.totalMs + config.durability.turnLogRetentionMs,
            holdIntervalMs: Math.max(100, config.durability.turnDetachMs / 3),
          },
          logger,
        );
  // Before serving: replies a crashed run left in progress are ended as interrupted, and so are their turns' logs.
  const abandonedReplies = await startAbandonedReplySweep(store, config.durability.instanceHeartbeatMs, logger, async (reply) =>
    turnLogs?.endAbandoned(reply),
  ).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const metrics = config.metricsEnabled ? new Metrics() : undefined;
  // The OpenTelemetry SDK is loaded only when a collector is configured.
  const tracing = config.tracing === undefined ? undefined : new (await import('../operations/tracing.js')).Tracing(config.tracing);
  const backgroundTasks = new BackgroundTasks(logger);
  const titles = config.autoTitles
    ? new ConversationTitles({ store, providers, tasks: backgroundTasks, logger, observer: metrics })
    : undefined;
  const engine = new ChatEngine({
    store,
    providers,
    guard,
    defaultContextWindow: config.defaultContextWindow,
    replyCheckpointMs: config.durability.replyCheckpointMs,
    logger,
    observer: metrics,
    tracer: tracing,
    ...(titles === undefined ? {} : { afterTurn: (turn) => titles.afterTurn(turn) }),
  });
  const turns = new Turns(
    engine,
    { detachMs: config.durability.turnDetachMs, retentionMs: config.durability.turnLogRetentionMs, maxRetained: endedTurnsKept },
    turnLogs === undefined ? undefined : { logs: turnLogs, logger },
  );
  const processAiJob = aiJobProcessor({ engine, providers, settings: config.surfaces.aiModule });
  const aiJobs = await openJobQueue(config, 'ai-tasks', processAiJob, logger, metrics).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const readiness = new Readiness([
    { name: 'database', ping: () => store.ping() },
    ...(redis === undefined ? [] : [{ name: 'redis', ping: () => redis.ping() }]),
  ]);
  const dependencies = {
    config,
    engine,
    turns,
    store,
    providers,
    authenticator,
    userAccess,
    rateLimiter,
    guard,
    logger,
    aiJobs,
    speech,
    readiness,
    metrics,
    tracing,
  };
  const routeTable = new RouteTable();
  const server = await buildServer(dependencies, logger, routeTable);
  const socketRedis = redis?.duplicate({ commandTimeout: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null });
  socketRedis?.on('error', (error: Error) => logger.warn({ error: error.message }, 'socket.io: redis connection error'));
  const io = await attachSocketServer(server.server, dependencies, socketSurfaces, socketRedis);
  const namespaces = [...new Set(socketEventTable.map(({ namespace }) => namespace))];
  // A disabled user's sockets on this instance end now; their next handshake is refused.
  userAccess.onChange((changed) => {
    if (!changed.disabled) return;
    for (const namespace of namespaces) {
      for (const socket of io.of(namespace).sockets.values()) {
        if (isSignedInAs(socket, changed.userId)) socket.disconnect(true);
      }
    }
  });
  metrics?.watch({
    sockets: () => namespaces.map((namespace) => [namespace, io.of(namespace).sockets.size]),
    providers: () => providers.health(),
    jobQueues: () => [['ai-tasks', aiJobs]],
  });
  const guestRetention = startGuestRetention(store, config.guestRetentionDays, logger);
  return {
    server,
    io,
    store,
    providers,
    authenticator,
    logger,
    engine,
    routes: routeTable.routes,
    async close() {
      readiness.markDraining();
      await drainConnections({ server, io, engine, graceMs: config.shutdownGraceMs, logger });
      // Titles of the last replies get a moment to land; the rest are aborted before the store closes.
      await backgroundTasks.close(interruptionMs);
      // Running jobs end (a cancelled completion stores its partial reply) before the store closes.
      await aiJobs.close();
      await engine.saveUnsavedEndings();
      // The turns' last events reach the shared log before its connection goes.
      await turns.close();
      await guestRetention.stop();
      await userAccess.close();
      await abandonedReplies.stop();
      await store.close();
      // Ends the Socket.IO adapter's reads of its stream.
      if (socketRedis !== undefined) await io.close();
      socketRedis?.disconnect();
      redis?.disconnect();
      await tracing?.close();
    },
  };
}

/** Ended turns kept readable for late resumes, whatever the retention: about 2 KB each (their text and offsets). */
const endedTurnsKept = 10_000;

/** How long interrupted turns get to store their replies and send their error events. */
const interruptionMs = 500;

const shuttingDown = new AppError('service_unavailable', 'Parley is shutting down; the reply so far was stored as interrupted', {
  retryable: true,
});

/**
 * Shutdown: stop accepting connections and turns at once, give running
 * turns the grace period to finish, then interrupt the rest (each stores its
 * reply as interrupted and sends its surface's error event) and close every
 * connection, sockets included: a connected client, even idle, must not keep
 * the process alive, and must not find a listener to reconnect to.
 */
async function drainConnections(parts: {
  server: FastifyInstance;
  io: SocketServer;
  engine: ChatEngine;
  graceMs: number;
  logger: Logger;
}): Promise<void> {
  const { server, io, engine, graceMs, logger } = parts;
  // Stops listening now; resolves once every connection has ended.
  const closed = server.close();
  const drained = engine.drain(shuttingDown);
  if (!(await settlesWithin(drained, graceMs))) {
    logger.warn({ turns: engine.activeTurnCount }, 'grace period over: interrupting the turns still running');
    await settlesWithin(engine.interruptActiveTurns(shuttingDown), interruptionMs);
  }
  // The error events just sent get a moment to leave before their sockets close.
  await new Promise((resolve) => setTimeout(resolve, 20));
  io.engine.close();
  server.server.closeAllConnections();
  await closed;
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
