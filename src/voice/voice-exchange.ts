import type { SpeechToText, SynthesizedSpeech, TextToSpeech } from './speech-engines.js';
import type { SpeechDirection, VoiceExchangeOutcome, VoiceObserver } from './voice-observer.js';
import type { SpeechEngineTrace, VoiceExchangeTrace, VoiceTracer } from './voice-tracer.js';

/** Who watches the voice assistant; either is absent when its feature is off (METRICS=false, no OTLP endpoint). */
export interface VoiceInstruments {
  observer?: VoiceObserver | undefined;
  tracer?: VoiceTracer | undefined;
}

/**
 * One thing the user said (or typed) and its answer: times its speech
 * engine calls for the metrics and the trace, and reports how it ended,
 * once. Only spoken exchanges count as utterances.
 */
export class VoiceExchange {
  private readonly trace: VoiceExchangeTrace | undefined;
  private ended = false;

  constructor(
    private readonly instruments: VoiceInstruments,
    private readonly source: 'voice' | 'text',
    audioBytes?: number,
  ) {
    this.trace = instruments.tracer?.startVoiceExchange(source, audioBytes);
  }

  /** For the chat turn's span; undefined without tracing. */
  get turnParent(): unknown {
    return this.trace?.turnParent;
  }

  transcribe(engine: SpeechToText, pcm: Buffer, signal: AbortSignal): Promise<string> {
    const trace = this.trace?.startSpeechToText(engine.name, pcm.length);
    return this.run(
      'speech_to_text',
      engine.name,
      trace,
      signal,
      () => engine.transcribe(pcm, signal),
      (text) => text.length,
    );
  }

  synthesize(engine: TextToSpeech, text: string, signal: AbortSignal): Promise<SynthesizedSpeech> {
    const trace = this.trace?.startTextToSpeech(engine.name, text.length);
    return this.run(
      'text_to_speech',
      engine.name,
      trace,
      signal,
      () => engine.synthesize(text, signal),
      (speech) => speech.audio.length,
    );
  }

  /** The first call counts; later ones (a fallback in a finally) do nothing. */
  end(outcome: VoiceExchangeOutcome, failure?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.source === 'voice') this.instruments.observer?.utteranceEnded(outcome);
    this.trace?.end(outcome, failure);
  }

  private async run<Result>(
    direction: SpeechDirection,
    engine: string,
    trace: SpeechEngineTrace | undefined,
    signal: AbortSignal,
    call: () => Promise<Result>,
    produced: (result: Result) => number,
  ): Promise<Result> {
    const startedAt = performance.now();
    try {
      const result = await call();
      this.instruments.observer?.speechEngineRan({ direction, engine, status: 'ok', durationMs: performance.now() - startedAt });
      trace?.succeeded(produced(result));
      return result;
    } catch (error) {
      const status = signal.aborted ? 'aborted' : 'failed';
      this.instruments.observer?.speechEngineRan({ direction, engine, status, durationMs: performance.now() - startedAt });
      trace?.failed(error, signal.aborted);
      throw error;
    }
  }
}
