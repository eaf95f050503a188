import OpenAI, { toFile } from 'openai';
import type { OpenAIProviderConfig } from '../config/config.js';
import type { SpeechToTextSettings, TextToSpeechSettings } from '../config/voice-settings.js';
import { createNodeHttpFetch } from '../providers/node-http-fetch.js';
import { toUpstreamError, type UpstreamLabel } from '../providers/upstream-error.js';
import { withOneCallSignal } from '../providers/one-call-signal.js';
import { pcmSampleRate, type SpeechToText, type SynthesizedSpeech, type TextToSpeech } from './speech-engines.js';
import { wavFile } from './wav-file.js';

const label: UpstreamLabel = { displayName: 'OpenAI', keyVariable: 'OPENAI_API_KEY' };

/**
 * OpenAI rejects audio under 0.1 s with a 400 ("Audio file is too short"),
 * https://platform.openai.com/docs/api-reference/audio/createTranscription;
 * such a clip holds no words, so it is answered here without a billed call.
 */
const shortestTranscribableBytes = (pcmSampleRate / 10) * 2;

function openAIClient(config: OpenAIProviderConfig): OpenAI {
  return new OpenAI({
    apiKey: config.apiKey,
    // Explicit, so the client never falls back to reading process.env itself.
    baseURL: config.baseURL ?? 'https://api.openai.com/v1',
    organization: config.organization ?? null,
    // A voice turn is live: the SDK's backoff would leave the speaker in silence for seconds.
    // Failing at once lets the assistant say so; the AppError's `retryable` tells the caller whether to try again.
    maxRetries: 0,
    // Not the SDK's ten minutes: someone is waiting to hear the answer.
    timeout: 60_000,
    // Speech replies arrive as bytes it handles itself. Multipart uploads (FormData bodies) it hands to the global
    // fetch, so transcriptions go through undici's fetch, which encodes the form.
    fetch: createNodeHttpFetch(),
  });
}

/** Whisper (or any model of POST /v1/audio/transcriptions): https://platform.openai.com/docs/api-reference/audio/createTranscription */
export class OpenAISpeechToText implements SpeechToText {
  readonly name = 'openai';
  private readonly client: OpenAI;
  private readonly model: string;

  constructor(config: OpenAIProviderConfig, settings: Extract<SpeechToTextSettings, { engine: 'openai' }>) {
    this.client = openAIClient(config);
    this.model = settings.model;
  }

  async transcribe(pcm: Buffer, signal: AbortSignal): Promise<string> {
    if (pcm.length < shortestTranscribableBytes) return '';
    try {
      const file = await toFile(wavFile(pcm), 'speech.wav', { type: 'audio/wav' });
      const transcription = await withOneCallSignal(signal, (callSignal) =>
        this.client.audio.transcriptions.create({ file, model: this.model }, { signal: callSignal }),
      );
      return transcription.text.trim();
    } catch (error) {
      if (signal.aborted) throw error;
      throw toUpstreamError(error, label);
    }
  }
}

/** POST /v1/audio/speech: https://platform.openai.com/docs/api-reference/audio/createSpeech */
export class OpenAITextToSpeech implements TextToSpeech {
  readonly name = 'openai';
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly voice: string;

  constructor(config: OpenAIProviderConfig, settings: Extract<TextToSpeechSettings, { engine: 'openai' }>) {
    this.client = openAIClient(config);
    this.model = settings.model;
    this.voice = settings.voice;
  }

  async synthesize(text: string, signal: AbortSignal): Promise<SynthesizedSpeech> {
    try {
      // Read inside the call: the body can still fail (connection cut, abort) after the status arrived.
      const audio = await withOneCallSignal(signal, async (callSignal) => {
        const response = await this.client.audio.speech.create(
          { model: this.model, voice: this.voice, input: text, response_format: 'mp3' },
          { signal: callSignal },
        );
        return Buffer.from(await response.arrayBuffer());
      });
      return { audio, mimeType: 'audio/mpeg' };
    } catch (error) {
      if (signal.aborted) throw error;
      throw toUpstreamError(error, label);
    }
  }
}
