/**
 * OpenTelemetry traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: spans go to that collector as
 * OTLP over HTTP (JSON), in batches. Each HTTP request gets a server span
 * under the caller's `traceparent` (W3C trace context) and answers with its
 * own `traceparent`; each turn a span following the GenAI semantic
 * conventions, with children for the store writes and the provider request.
 *
 * No global context manager is installed (it would track every promise of
 * the process): a request's context is handed to its turn explicitly
 * (src/http/request-trace.ts), and a Parley without a collector loads none
 * of this.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { setRequestTraceContext } from '../http/request-trace.js';
import type { TurnOutcome } from '../chat/turn-observer.js';
import type { ProviderRequestTrace, TurnPhase, TurnTrace, TurnTracer } from '../chat/turn-tracer.js';
import type { FinishReason } from '../providers/chat-provider.js';
import type { TracingSettings } from '../config/tracing-settings.js';
import { endSpan } from './span-failure.js';
import { VoiceTracing } from './voice-tracing.js';

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

export class Tracing implements TurnTracer {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  /** Seed 004's voice exchanges and their speech engine calls. */
  readonly voice: VoiceTracing;

  constructor(settings: TracingSettings) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.tracesUrl }), scheduledDelayMillis: 500 })],
    });
    this.tracer = this.provider.getTracer('parley');
    this.voice = new VoiceTracing(this.tracer);
  }

  /** A server span per HTTP request, under the caller's traceparent, announced in the response's own traceparent header. */
  instrument(app: FastifyInstance): void {
    const spans = new WeakMap<object, Span>();
    app.addHook('onRequest', async (request, reply) => {
      const parent = this.propagator.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const route = request.routeOptions.url ?? 'unmatched';
      const span = this.tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] },
        },
        parent,
      );
      spans.set(request, span);
      const context = trace.setSpan(parent, span);
      const carrier: Record<string, string> = {};
      this.propagator.inject(context, carrier, { set: (target, key, value) => (target[key] = value) });
      // Set before any handler runs, so that an event stream's hand-written head carries it too.
      if (carrier.traceparent !== undefined) reply.header('traceparent', carrier.traceparent);
      // For the turn the request starts (httpTurnClient hands it over).
      setRequestTraceContext(request, context);
    });
    app.addHook('onResponse', async (request, reply) => {
      const span = spans.get(request);
      if (span === undefined) return;
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  }

  startTurn(requestedModel: string, traceParent: unknown): TurnTrace {
    const parent = (traceParent as Context | undefined) ?? ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `chat ${requestedModel}`,
      { kind: SpanKind.INTERNAL, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': requestedModel } },
      parent,
    );
    return new OpenTurnTrace(this.tracer, span, trace.setSpan(parent, span));
  }

  /** Sends the spans still batched; at shutdown. */
  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}

class OpenTurnTrace implements TurnTrace {
  readonly traceId: string;
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly context: Context,
  ) {
    this.traceId = span.spanContext().traceId;
  }

  startPhase(name: TurnPhase): (failure?: unknown) => void {
    const span = this.tracer.startSpan(`parley.${name}`, { kind: SpanKind.INTERNAL }, this.context);
    return (failure) => endSpan(span, failure);
  }

  startProviderRequest(provider: string, model: string): ProviderRequestTrace {
    const span = this.tracer.startSpan(
      `chat ${model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider, 'gen_ai.request.model': model },
      },
      this.context,
    );
    return {
      retried: (attempt) => span.addEvent('retry', { attempt }),
      firstToken: (at) => span.addEvent('gen_ai.first_token', {}, performance.timeOrigin + at),
      end: (failure) => endSpan(span, failure),
    };
  }

  end(outcome: TurnOutcome, finishReason: FinishReason | undefined): void {
    this.span.setAttributes({
      'gen_ai.provider.name': outcome.provider,
      'gen_ai.response.model': outcome.model,
      'gen_ai.usage.input_tokens': outcome.promptTokens,
      'gen_ai.usage.output_tokens': outcome.completionTokens,
      'gen_ai.response.finish_reasons': [outcome.status === 'complete' ? (finishReason ?? 'stop') : outcome.status],
      'parley.surface': outcome.surface,
      'parley.turn.status': outcome.status,
    });
    if (outcome.failureCode !== undefined) {
      this.span.setAttribute('error.type', outcome.failureCode);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.failureCode });
    }
    this.close();
  }

  refused(code: string): void {
    this.span.setAttributes({ 'error.type': code, 'parley.turn.status': 'refused' });
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    this.close();
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}
