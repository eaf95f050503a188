import type { OpenAIProviderConfig } from '../config/config.js';
import type { SpeechToTextSettings, TextToSpeechSettings, VoiceSettings } from '../config/voice-settings.js';
import { EspeakTextToSpeech } from './espeak-text-to-speech.js';
import { OpenAISpeechToText, OpenAITextToSpeech } from './openai-speech.js';
import { PocketsphinxSpeechToText } from './pocketsphinx-speech-to-text.js';
import type { SpeechEngines, SpeechToText, TextToSpeech } from './speech-engines.js';

/**
 * The engines the settings name. Construction only stores settings (no
 * program is started, no request sent), so this is cheap at boot; a missing
 * local program shows up on first use as service_unavailable.
 */
export function openSpeechEngines(settings: VoiceSettings, openai: OpenAIProviderConfig | undefined): SpeechEngines {
  return {
    speechToText: openSpeechToText(settings.speechToText, openai),
    textToSpeech: openTextToSpeech(settings.textToSpeech, openai),
  };
}

function openSpeechToText(settings: SpeechToTextSettings, openai: OpenAIProviderConfig | undefined): SpeechToText {
  if (settings.engine === 'pocketsphinx') return new PocketsphinxSpeechToText();
  return new OpenAISpeechToText(requireOpenAI(openai, 'SPEECH_TO_TEXT'), settings);
}

function openTextToSpeech(settings: TextToSpeechSettings, openai: OpenAIProviderConfig | undefined): TextToSpeech | undefined {
  switch (settings.engine) {
    case 'none':
      return undefined;
    case 'espeak':
      return new EspeakTextToSpeech(settings);
    case 'openai':
      return new OpenAITextToSpeech(requireOpenAI(openai, 'TEXT_TO_SPEECH'), settings);
  }
}

function requireOpenAI(openai: OpenAIProviderConfig | undefined, variable: string): OpenAIProviderConfig {
  if (openai === undefined) throw new Error(`${variable}=openai needs OPENAI_API_KEY`);
  return openai;
}
