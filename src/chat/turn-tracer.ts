import type { TurnOutcome } from './turn-observer.js';
import type { FinishReason } from '../providers/chat-provider.js';

/**
 * A turn's trace, as the engine reports it: one span for the turn, children
 * for its store writes and its provider request. Implemented with
 * OpenTelemetry in src/operations/tracing.ts; absent when tracing is off, so
 * the engine pays nothing for it then. Nothing here is called per token.
 */
export interface TurnTracer {
  /** Starts a turn's span, under `parent` (the HTTP request's trace context, as the tracer stored it) when there is one. */
  startTurn(requestedModel: string, parent: unknown): TurnTrace;
}

export interface TurnTrace {
  /** For the turn's log lines. */
  readonly traceId: string;
  /** A child span from now until the returned function is called (with the failure, if any). */
  startPhase(name: TurnPhase): (failure?: unknown) => void;
  /** The provider request: a child span, with an event per retry and one at the first token. */
  startProviderRequest(provider: string, model: string): ProviderRequestTrace;
  /** Ends the turn's span with the GenAI attributes of how it ended. */
  end(outcome: TurnOutcome, finishReason: FinishReason | undefined): void;
  /** Ends the turn's span of a turn refused before anything was stored. */
  refused(code: string): void;
  /** Ends the turn's span if neither end nor refused did (a client gone before its turn was admitted). */
  close(): void;
}

export type TurnPhase = 'store.begin_turn' | 'store.finish_turn';

export interface ProviderRequestTrace {
  retried(attempt: number): void;
  /** When the first token came, as performance.now() read it (recorded after the stream, not per token). */
  firstToken(at: number): void;
  end(failure?: unknown): void;
}
