import type { VoiceExchangeOutcome } from './voice-observer.js';

/**
 * A voice exchange's trace: one span from the end of an utterance (or a
 * text message's arrival) to its reply sent, with a child per speech engine
 * call; the chat turn's span goes under it too. Implemented with
 * OpenTelemetry in src/operations/voice-tracing.ts; absent when tracing is
 * off, so the voice assistant pays nothing for it then.
 */
export interface VoiceTracer {
  /** `audioBytes`: the utterance's PCM; none for a text message. */
  startVoiceExchange(source: 'voice' | 'text', audioBytes: number | undefined): VoiceExchangeTrace;
}

export interface VoiceExchangeTrace {
  /** The trace context the exchange's chat turn starts under (TurnClient.traceParent). */
  readonly turnParent: unknown;
  /** A child span for the recogniser reading `audioBytes` of PCM. */
  startSpeechToText(engine: string, audioBytes: number): SpeechEngineTrace;
  /** A child span for the synthesiser speaking `characters` of text. */
  startTextToSpeech(engine: string, characters: number): SpeechEngineTrace;
  /** Ends the exchange's span; `failure` names why a refused or failed one ended so. */
  end(outcome: VoiceExchangeOutcome, failure?: unknown): void;
}

export interface SpeechEngineTrace {
  /** `produced`: the characters transcribed, or the bytes of audio spoken. */
  succeeded(produced: number): void;
  failed(failure: unknown, aborted: boolean): void;
}
