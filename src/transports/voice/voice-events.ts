import type { ClientEventTable } from '../../realtime/socket-surface.js';
import type { SocketErrorDetails } from '../../realtime/socket-error-details.js';

/**
 * The wire payloads of seed 004's voice assistant (docs/protocols/voice.md)
 * on the default Socket.IO namespace. Every event name lives in the two maps
 * below.
 */

/** `message-received`: a user message was accepted (stored) and is being answered. */
export interface MessageReceived {
  text: string;
  /** `voice` when it was transcribed from `audio-stream`, `text` when it came as `text-message`. */
  source: 'voice' | 'text';
  messageId: string;
  timestamp: string;
}

/** `speech-result`: what the recogniser heard in one utterance; '' when it heard no words. */
export interface SpeechResult {
  text: string;
  isFinal: true;
}

/** `ai-typing`: true while a reply is being written and spoken, false once it was sent or dropped. */
export interface TypingIndicator {
  isTyping: boolean;
}

/** `ai-response`: the whole reply, with its speech when a text-to-speech engine is configured. */
export interface AiResponse {
  text: string;
  /** Base64 of the spoken reply; null without a speech engine or when speaking it failed (an `error` event says why). */
  audio: string | null;
  /** 'audio/mpeg' when audio is present. */
  mimeType: string | null;
  messageId: string;
  timestamp: string;
}

/** `error`: always with a stable code; `field` names the payload field at fault. */
export interface VoiceFailure extends SocketErrorDetails {
  message: string;
}

export interface ClientToServerEvents {
  /** One piece of the recording (ArrayBuffer, arrives as a Buffer). */
  'audio-stream': (chunk: unknown) => void;
  /** A string, or `{ text }` / `{ message }`. */
  'text-message': (payload: unknown) => void;
  'start-recording': (options?: unknown) => void;
  'stop-recording': () => void;
  interrupt: () => void;
}

/** Every client event of the voice assistant; none names a stored resource (the connection's conversation is set at the handshake). */
export const voiceClientEvents: ClientEventTable<ClientToServerEvents> = {
  'audio-stream': {},
  'text-message': {},
  'start-recording': {},
  'stop-recording': {},
  interrupt: {},
};

export interface ServerToClientEvents {
  'ai-response': (response: AiResponse) => void;
  'ai-typing': (typing: TypingIndicator) => void;
  'message-received': (message: MessageReceived) => void;
  'speech-result': (result: SpeechResult) => void;
  error: (failure: VoiceFailure) => void;
}
