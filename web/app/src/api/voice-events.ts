/**
 * Seed 004's voice events as the web app uses them (docs/protocols/voice.md;
 * the server's own types are src/transports/voice/voice-events.ts). Every
 * event name the app sends or listens to is in these two maps.
 */

export interface SpeechResult {
  /** What was heard in one utterance; '' when a recording held no speech. */
  text: string;
  isFinal: true;
}

export interface MessageReceived {
  text: string;
  source: 'voice' | 'text';
  messageId: string;
  timestamp: string;
}

export interface AiResponse {
  text: string;
  /** Base64 of the spoken reply, or null without a speech engine. */
  audio: string | null;
  mimeType: string | null;
  messageId: string;
  timestamp: string;
}

export interface VoiceFailure {
  message: string;
  code: string;
  field?: string;
  retryAfter?: number;
}

export interface VoiceServerEvents {
  'speech-result': (result: SpeechResult) => void;
  'message-received': (message: MessageReceived) => void;
  'ai-typing': (typing: { isTyping: boolean }) => void;
  'ai-response': (response: AiResponse) => void;
  error: (failure: VoiceFailure) => void;
}

export interface VoiceClientEvents {
  'start-recording': () => void;
  'audio-stream': (piece: ArrayBuffer) => void;
  'stop-recording': () => void;
  interrupt: () => void;
}
