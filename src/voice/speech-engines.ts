/**
 * The two speech engines of seed 004's voice assistant. Audio between them
 * and the decoder is always 16 kHz mono signed 16-bit little-endian PCM,
 * whatever the client recorded in.
 */
export const pcmSampleRate = 16_000;

export interface SpeechToText {
  /** Shown in logs and docs: 'openai', 'pocketsphinx'. */
  readonly name: string;
  /**
   * The words spoken in one utterance, trimmed; '' when nothing was recognised.
   * Fails with an AppError (provider_* for a remote engine, service_unavailable for a missing local one).
   */
  transcribe(pcm: Buffer, signal: AbortSignal): Promise<string>;
}

export interface SynthesizedSpeech {
  audio: Buffer;
  /** 'audio/mpeg': both engines answer with MP3, as the seed's clients expect. */
  mimeType: string;
}

export interface TextToSpeech {
  readonly name: string;
  /** Fails with an AppError, as transcribe does. */
  synthesize(text: string, signal: AbortSignal): Promise<SynthesizedSpeech>;
}

export interface SpeechEngines {
  speechToText: SpeechToText;
  /** Undefined with TEXT_TO_SPEECH=none: replies are sent as text only. */
  textToSpeech: TextToSpeech | undefined;
}
