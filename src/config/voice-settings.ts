import { z } from 'zod';

/**
 * Seed 004's voice assistant: which engines turn speech into text and text
 * into speech, and how an utterance is cut out of a continuous recording.
 * With an OpenAI key the seed's own engines are used (Whisper, TTS "alloy");
 * without one, the offline engines Debian packages (pocketsphinx, espeak-ng).
 */
const whole = (minimum: number, maximum: number) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(minimum).max(maximum).optional());

export const voiceEnvironment = {
  SPEECH_TO_TEXT: z.enum(['openai', 'pocketsphinx', '']).optional(),
  TEXT_TO_SPEECH: z.enum(['openai', 'espeak', 'none', '']).optional(),
  STT_MODEL: z.string().optional(),
  TTS_MODEL: z.string().optional(),
  TTS_VOICE: z.string().optional(),
  VOICE_SILENCE_MS: whole(100, 10_000),
  VOICE_MAX_UTTERANCE_SECONDS: whole(1, 300),
  VOICE_MAX_RECORDINGS: whole(1, 100_000),
  VOICE_MAX_RECORDINGS_PER_ADDRESS: whole(1, 100_000),
  VOICE_RECORDING_IDLE_SECONDS: whole(1, 3600),
};

type VoiceEnvironment = z.infer<z.ZodObject<typeof voiceEnvironment>> & { OPENAI_API_KEY?: string | undefined };

export type SpeechToTextSettings = { engine: 'openai'; model: string } | { engine: 'pocketsphinx' };
export type TextToSpeechSettings =
  { engine: 'openai'; model: string; voice: string } | { engine: 'espeak'; voice: string } | { engine: 'none' };

export interface VoiceSettings {
  speechToText: SpeechToTextSettings;
  textToSpeech: TextToSpeechSettings;
  /** Silence after speech that ends an utterance of a continuous recording. */
  silenceMs: number;
  /** An utterance is cut here and transcribed even if the speaker goes on. */
  maxUtteranceSeconds: number;
  /** Recordings being decoded at once, server-wide: each holds an ffmpeg process. */
  maxOpenRecordings: number;
  /** The same per client address (proxies and offices put many users behind one). */
  maxOpenRecordingsPerAddress: number;
  /** A recording that receives no audio this long is stopped, so a silent client does not hold a decoder. */
  recordingIdleSeconds: number;
}

export function voiceSettings(env: VoiceEnvironment): VoiceSettings {
  // Only a real key means OpenAI's audio endpoints exist; a bare OPENAI_BASE_URL is often Ollama or vLLM, which have none.
  const online = env.OPENAI_API_KEY !== undefined;
  const stt = env.SPEECH_TO_TEXT || (online ? 'openai' : 'pocketsphinx');
  const tts = env.TEXT_TO_SPEECH || (online ? 'openai' : 'espeak');
  return {
    speechToText: stt === 'openai' ? { engine: 'openai', model: env.STT_MODEL || 'whisper-1' } : { engine: 'pocketsphinx' },
    textToSpeech:
      tts === 'openai'
        ? { engine: 'openai', model: env.TTS_MODEL || 'tts-1', voice: env.TTS_VOICE || 'alloy' }
        : tts === 'espeak'
          ? { engine: 'espeak', voice: env.TTS_VOICE || 'en-us' }
          : { engine: 'none' },
    silenceMs: env.VOICE_SILENCE_MS ?? 700,
    maxUtteranceSeconds: env.VOICE_MAX_UTTERANCE_SECONDS ?? 30,
    maxOpenRecordings: env.VOICE_MAX_RECORDINGS ?? 200,
    maxOpenRecordingsPerAddress: env.VOICE_MAX_RECORDINGS_PER_ADDRESS ?? 10,
    recordingIdleSeconds: env.VOICE_RECORDING_IDLE_SECONDS ?? 30,
  };
}
