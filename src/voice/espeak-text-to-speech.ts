import type { TextToSpeechSettings } from '../config/voice-settings.js';
import { invalidRequest } from '../core/errors.js';
import { programUnavailable, runSpeechProgram } from './run-program.js';
import type { SynthesizedSpeech, TextToSpeech } from './speech-engines.js';

export interface EspeakPrograms {
  /** Default 'espeak-ng' and 'ffmpeg', both from Debian, found on the PATH. */
  espeak?: string;
  ffmpeg?: string;
}

/**
 * Offline speech with espeak-ng: robotic but instant and small. espeak-ng
 * speaks WAV only, so ffmpeg encodes it to the MP3 the seed's clients play.
 */
export class EspeakTextToSpeech implements TextToSpeech {
  readonly name = 'espeak';
  private readonly voice: string;
  private readonly espeak: string;
  private readonly ffmpeg: string;

  constructor(settings: Extract<TextToSpeechSettings, { engine: 'espeak' }>, programs: EspeakPrograms = {}) {
    this.voice = settings.voice;
    this.espeak = programs.espeak ?? 'espeak-ng';
    this.ffmpeg = programs.ffmpeg ?? 'ffmpeg';
  }

  async synthesize(text: string, signal: AbortSignal): Promise<SynthesizedSpeech> {
    // espeak-ng says nothing for blank text, and ffmpeg then fails on an empty input.
    if (text.trim() === '') throw invalidRequest('There is no text to speak', 'text');
    try {
      // The text goes in on stdin (--stdin reads it whole), never as an argument: one starting with '-' would be an option.
      const wav = await runSpeechProgram(this.espeak, ['--stdout', '--stdin', '-v', this.voice], Buffer.from(text, 'utf8'), signal);
      const mp3Arguments = ['-v', 'error', '-i', 'pipe:0', '-f', 'mp3', '-c:a', 'libmp3lame', '-b:a', '64k', 'pipe:1'];
      const mp3 = await runSpeechProgram(this.ffmpeg, mp3Arguments, wav.stdout, signal);
      return { audio: mp3.stdout, mimeType: 'audio/mpeg' };
    } catch (error) {
      if (signal.aborted) throw error;
      throw programUnavailable(error, 'Speech synthesis');
    }
  }
}
