import type { Authenticator } from '../auth/authenticator.js';
import type { UserAccessSync } from '../auth/user-access-sync.js';
import type { Config } from '../config/config.js';
import type { TurnGuard } from '../chat/turn-guard.js';
import type { Turns } from '../chat/turns.js';
import type { ChatEngine } from '../chat/chat-engine.js';
import type { Logger } from '../core/logger.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { ChatStore } from '../store/chat-store.js';
import type { AiJobQueue } from '../transports/ai-module-rest/ai-jobs.js';
import type { SpeechEngines } from '../voice/speech-engines.js';
import type { Readiness } from '../operations/readiness.js';
import type { Metrics } from '../operations/metrics.js';
import type { Tracing } from '../operations/tracing.js';

/**
 * What every transport is built from; assembled once in src/app/app.ts. A
 * surface's entry point (its route plugin or socket surface) gets it whole;
 * each route and event handler under it declares the part it uses, as a
 * `Pick<ServerDependencies, …>`, so what a handler can reach is in its signature.
 */
export interface ServerDependencies {
  config: Config;
  engine: ChatEngine;
  /** Every turn a transport starts goes through here: its events are read from the turn's log. */
  turns: Turns;
  store: ChatStore;
  providers: ProviderRegistry;
  authenticator: Authenticator;
  /** Applies an admin's change to a user's access here and on every instance. */
  userAccess: UserAccessSync;
  logger: Logger;
  /** For requests that do not run a turn (embeddings, queued jobs); turns are limited by the engine. */
  rateLimiter: RateLimiter;
  /** The turns' admission checks, for requests that are not turns but spend tokens (a spent budget refuses them too). */
  guard: TurnGuard;
  /** Seed 001's background jobs; without it /api/v1/ai/jobs is not served. */
  aiJobs?: AiJobQueue;
  /** Seed 004's speech-to-text and text-to-speech. */
  speech: SpeechEngines;
  /** What GET /ready answers: the dependencies' state and whether the instance drains. */
  readiness: Readiness;
  /** GET /metrics; every answered request is counted into it. Absent with METRICS=false. */
  metrics: Metrics | undefined;
  /** OpenTelemetry traces, with OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracing?: Tracing | undefined;
}
