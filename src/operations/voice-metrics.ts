/**
 * Seed 004's voice series, in the Metrics registry (src/operations/metrics.ts).
 * Counted once per utterance and once per speech engine call, never per
 * audio chunk; labelled by outcome, engine and status only.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { voiceExchangeOutcomes, type SpeechEngineRun, type VoiceExchangeOutcome, type VoiceObserver } from '../voice/voice-observer.js';

/** Speech engines: ~50 ms for espeak-ng or a cached reply, seconds for Whisper or pocketsphinx on a long utterance, 30 s at worst. */
const speechBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];

export class VoiceMetrics implements VoiceObserver {
  private readonly utterances: Counter<'outcome'>;
  private readonly durations: Record<SpeechEngineRun['direction'], Histogram<'engine' | 'status'>>;

  constructor(registry: Registry) {
    this.utterances = new Counter({
      name: 'parley_voice_utterances_total',
      help: 'Utterances cut out of voice recordings, by how they ended (answered, empty, refused, failed, interrupted).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    // Every outcome is exported from the start, at 0, so that a rate() over it has a series before the first one happens.
    for (const outcome of voiceExchangeOutcomes) this.utterances.inc({ outcome }, 0);
    this.durations = {
      speech_to_text: new Histogram({
        name: 'parley_speech_to_text_duration_seconds',
        help: 'Transcriptions of one utterance, by engine (openai, pocketsphinx) and status (ok, failed, aborted).',
        labelNames: ['engine', 'status'] as const,
        buckets: speechBuckets,
        registers: [registry],
      }),
      text_to_speech: new Histogram({
        name: 'parley_text_to_speech_duration_seconds',
        help: 'Syntheses of one reply, by engine (openai, espeak) and status (ok, failed, aborted).',
        labelNames: ['engine', 'status'] as const,
        buckets: speechBuckets,
        registers: [registry],
      }),
    };
  }

  utteranceEnded(outcome: VoiceExchangeOutcome): void {
    this.utterances.inc({ outcome });
  }

  speechEngineRan(run: SpeechEngineRun): void {
    this.durations[run.direction].observe({ engine: run.engine, status: run.status }, run.durationMs / 1000);
  }
}
