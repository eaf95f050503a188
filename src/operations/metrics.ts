/**
 * Prometheus metrics (prom-client), served at GET /metrics. Each instance
 * exposes its own; nothing is labelled by user (cardinality). Everything is
 * counted per request, per turn or at scrape time, never per token: the
 * relay path pays nothing for it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SideModelCall, TurnObserver, TurnOutcome } from '../chat/turn-observer.js';
import type { JobObserver, JobQueueDepth, JobRun } from '../jobs/job-queue.js';
import type { ProviderHealth } from '../providers/provider-registry.js';
import type { Surface } from '../store/chat-store.js';
import { VoiceMetrics } from './voice-metrics.js';

/** LLM latencies: tens of milliseconds for a cached or local model, up to a minute for a long reply. */
const latencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

/** Model names come from requests; past this many distinct ones, the rest are counted as `other`. */
const maxModelLabels = 100;

/** Numeric breaker states, for alerting on `== 1` (open). */
const breakerValues: Record<ProviderHealth['breaker'], number> = { none: -1, closed: 0, open: 1, half_open: 2, isolated: 3 };

export interface MetricsSources {
  /** Open sockets per Socket.IO namespace, read at scrape time. */
  sockets?: () => Iterable<[namespace: string, count: number]>;
  /** Providers' breakers and counts, read at scrape time. */
  providers?: () => ProviderHealth[];
  /** Job queues by name, whose depth is read at scrape time. */
  jobQueues?: () => Iterable<[queue: string, jobs: { depth(): Promise<JobQueueDepth> }]>;
}

export class Metrics implements TurnObserver, JobObserver {
  readonly registry = new Registry();
  private readonly sources: MetricsSources = {};
  private readonly models = new Set<string>();
  /** Seed 004's utterances and speech engine calls (the voice assistant's VoiceObserver). */
  readonly voice = new VoiceMetrics(this.registry);

  private readonly httpRequests = new Counter({
    name: 'parley_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly activeTurns = new Gauge({
    name: 'parley_active_turns',
    help: 'Turns running now, by surface.',
    labelNames: ['surface'] as const,
    registers: [this.registry],
  });
  private readonly turns = new Counter({
    name: 'parley_turns_total',
    help: 'Turns ended, by surface and final status (complete, interrupted, failed); refused ones are parley_turn_refusals_total.',
    labelNames: ['surface', 'status'] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'parley_turn_refusals_total',
    help: 'Turns refused before anything was stored, by error code (rate_limited, budget_exceeded, invalid_request, store_unavailable, …).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly timeToFirstToken = new Histogram({
    name: 'parley_time_to_first_token_seconds',
    help: 'From receiving a turn to its first token, by provider and model.',
    labelNames: ['provider', 'model'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly turnDuration = new Histogram({
    name: 'parley_turn_duration_seconds',
    help: 'From receiving a turn to storing its reply, by provider and model.',
    labelNames: ['provider', 'model'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'parley_tokens_total',
    help: 'Tokens billed, by provider, model and direction (input: prompt, output: completion).',
    labelNames: ['provider', 'model', 'direction'] as const,
    registers: [this.registry],
  });
  private readonly modelCalls = new Counter({
    name: 'parley_model_calls_total',
    help: 'Calls the server made for users beside their turns, by purpose (title, summary); their tokens are in parley_tokens_total.',
    labelNames: ['purpose'] as const,
    registers: [this.registry],
  });
  private readonly turnFailures = new Counter({
    name: 'parley_turn_failures_total',
    help: 'Turns that failed, by provider and error code.',
    labelNames: ['provider', 'code'] as const,
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'parley_job_duration_seconds',
    help: 'Background jobs run by this instance, from start to end (waiting not included), by kind and final status (completed, failed).',
    labelNames: ['kind', 'status'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  constructor() {
    // Process CPU, memory, handles, GC and event-loop lag (its percentiles from monitorEventLoopDelay).
    collectDefaultMetrics({ register: this.registry });
    const sources = this.sources;
    new Gauge({
      name: 'parley_socket_connections',
      help: 'Open Socket.IO connections, by namespace.',
      labelNames: ['namespace'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [namespace, count] of sources.sockets?.() ?? []) this.set({ namespace }, count);
      },
    });
    new Gauge({
      name: 'parley_provider_breaker_state',
      help: 'Each provider circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated, -1 no breaker.',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { provider, breaker } of sources.providers?.() ?? []) this.set({ provider }, breakerValues[breaker]);
      },
    });
    new Counter({
      name: 'parley_provider_retries_total',
      help: 'Provider requests attempted again after a failure before the first token, by provider.',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { provider, counts } of sources.providers?.() ?? []) this.inc({ provider }, counts.retries);
      },
    });
    new Counter({
      name: 'parley_provider_errors_total',
      help: 'Provider requests that failed to open (after retries), by provider and error code.',
      labelNames: ['provider', 'code'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { provider, counts } of sources.providers?.() ?? []) {
          for (const [code, count] of counts.failures) this.inc({ provider, code }, count);
        }
      },
    });
    new Gauge({
      name: 'parley_job_queue_depth',
      help: 'Background jobs waiting and running now, by queue and state (waiting, active); with Redis, across all instances.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [queue, jobs] of sources.jobQueues?.() ?? []) {
          // A queue whose Redis is away has no depth to show; the scrape still answers (GET /ready names what is down).
          const depth = await jobs.depth().catch(() => undefined);
          if (depth === undefined) continue;
          this.set({ queue, state: 'waiting' }, depth.waiting);
          this.set({ queue, state: 'active' }, depth.active);
        }
      },
    });
  }

  /** Where the scrape-time gauges read from, once those parts exist. */
  watch(sources: MetricsSources): void {
    Object.assign(this.sources, sources);
  }

  httpRequestAnswered(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }

  turnStarted(surface: Surface): void {
    this.activeTurns.inc({ surface });
  }

  turnEnded(outcome: TurnOutcome): void {
    const { surface, status } = outcome;
    this.activeTurns.dec({ surface });
    this.turns.inc({ surface, status });
    const labels = { provider: providerLabel(outcome.provider), model: this.modelLabel(outcome.model) };
    if (outcome.timeToFirstTokenMs !== null) this.timeToFirstToken.observe(labels, outcome.timeToFirstTokenMs / 1000);
    this.turnDuration.observe(labels, outcome.durationMs / 1000);
    this.countTokens(labels.provider, labels.model, outcome.promptTokens, outcome.completionTokens);
    if (outcome.failureCode !== undefined) this.turnFailures.inc({ provider: labels.provider, code: outcome.failureCode });
  }

  turnRefused(code: string): void {
    this.refusals.inc({ code });
  }

  modelCallEnded(call: SideModelCall): void {
    this.modelCalls.inc({ purpose: call.purpose });
    this.countTokens(providerLabel(call.provider), this.modelLabel(call.model), call.promptTokens, call.completionTokens);
  }

  jobEnded(run: JobRun): void {
    this.jobDuration.observe({ kind: run.kind, status: run.status }, run.durationMs / 1000);
  }

  private countTokens(provider: string, model: string, input: number, output: number): void {
    if (input > 0) this.tokens.inc({ provider, model, direction: 'input' }, input);
    if (output > 0) this.tokens.inc({ provider, model, direction: 'output' }, output);
  }

  private modelLabel(model: string): string {
    if (this.models.has(model)) return model;
    if (this.models.size >= maxModelLabels) return 'other';
    this.models.add(model);
    return model;
  }
}

/** `openai (fallback from gpt-4o)` is counted as `openai`. */
function providerLabel(provider: string): string {
  const space = provider.indexOf(' ');
  return space === -1 ? provider : provider.slice(0, space);
}
