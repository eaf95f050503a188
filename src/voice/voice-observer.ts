/**
 * How each utterance ended, once per utterance: an utterance is a piece of
 * speech the detector cut out of a recording (a recording in which it found
 * no speech at all is none).
 * - answered: the reply was sent (its audio too, unless speaking it failed);
 * - empty: the recogniser heard no words (an empty speech-result);
 * - refused: refused before the recogniser ran (rate limited, a bad token);
 * - failed: the recogniser or the turn failed (an error event said why);
 * - interrupted: the reply was dropped (barge-in, a newer message) or the socket closed.
 */
export const voiceExchangeOutcomes = ['answered', 'empty', 'refused', 'failed', 'interrupted'] as const;

export type VoiceExchangeOutcome = (typeof voiceExchangeOutcomes)[number];

export type SpeechDirection = 'speech_to_text' | 'text_to_speech';

/** One call of a speech engine. */
export interface SpeechEngineRun {
  direction: SpeechDirection;
  /** The engine's name: openai, pocketsphinx, espeak. */
  engine: string;
  /** aborted: the socket closed or the reply was dropped while it ran. */
  status: 'ok' | 'failed' | 'aborted';
  durationMs: number;
}

/**
 * What the voice assistant tells whoever watches it (the Prometheus
 * metrics), once per utterance and once per engine call: nothing here runs
 * per audio chunk.
 */
export interface VoiceObserver {
  utteranceEnded(outcome: VoiceExchangeOutcome): void;
  speechEngineRan(run: SpeechEngineRun): void;
}
