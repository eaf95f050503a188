/**
 * Seed 004's spans (see src/voice/voice-tracer.ts): `voice_exchange` at the
 * root of its own trace, like any Socket.IO turn, with `speech_to_text`,
 * the chat turn and `text_to_speech` under it. Attributes carry sizes,
 * engines and error codes, never the words said.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { VoiceExchangeOutcome } from '../voice/voice-observer.js';
import type { SpeechEngineTrace, VoiceExchangeTrace, VoiceTracer } from '../voice/voice-tracer.js';
import { recordFailure } from './span-failure.js';

export class VoiceTracing implements VoiceTracer {
  constructor(private readonly tracer: Tracer) {}

  startVoiceExchange(source: 'voice' | 'text', audioBytes: number | undefined): VoiceExchangeTrace {
    const attributes: Attributes = { 'parley.voice.source': source };
    if (audioBytes !== undefined) attributes['parley.voice.audio_bytes'] = audioBytes;
    const span = this.tracer.startSpan('voice_exchange', { kind: SpanKind.INTERNAL, attributes }, ROOT_CONTEXT);
    return new OpenVoiceExchangeTrace(this.tracer, span, trace.setSpan(ROOT_CONTEXT, span));
  }
}

class OpenVoiceExchangeTrace implements VoiceExchangeTrace {
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    readonly turnParent: Context,
  ) {}

  // On both steps parley.voice.audio_bytes is the audio's size and parley.voice.characters the text's, whichever way they go.
  startSpeechToText(engine: string, audioBytes: number): SpeechEngineTrace {
    return this.startStep(
      'speech_to_text',
      { 'parley.voice.engine': engine, 'parley.voice.audio_bytes': audioBytes },
      'parley.voice.characters',
    );
  }

  startTextToSpeech(engine: string, characters: number): SpeechEngineTrace {
    return this.startStep(
      'text_to_speech',
      { 'parley.voice.engine': engine, 'parley.voice.characters': characters },
      'parley.voice.audio_bytes',
    );
  }

  end(outcome: VoiceExchangeOutcome, failure?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('parley.voice.outcome', outcome);
    if (outcome === 'failed' || outcome === 'refused') {
      if (failure !== undefined) recordFailure(this.span, failure);
      else this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    }
    this.span.end();
  }

  private startStep(name: string, attributes: Attributes, producedAttribute: string): SpeechEngineTrace {
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, this.turnParent);
    return {
      succeeded(produced) {
        span.setAttributes({ [producedAttribute]: produced, 'parley.voice.status': 'ok' });
        span.end();
      },
      failed(failure, aborted) {
        span.setAttribute('parley.voice.status', aborted ? 'aborted' : 'failed');
        // An abort is the user's choice (barge-in, leaving), not an error.
        if (!aborted) recordFailure(span, failure);
        span.end();
      },
    };
  }
}
