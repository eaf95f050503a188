import type { Namespace, Socket } from 'socket.io';
import type { SocketErrorDetails } from '../../realtime/socket-error-details.js';
import type { Identity } from '../../core/identity.js';
import type { ClientEventTable } from '../../realtime/socket-surface.js';
import type { TurnResumePayload } from '../../realtime/turn-resume-payload.js';
import type { AiRequestPayload, ChatStartPayload, ClearHistoryPayload, RequestId } from './ai-namespace-payloads.js';

/**
 * The wire events of the /ai namespace: seed 000's assistant (`ai_*`,
 * `clear_history`, `history_cleared`) and seed 001's AI module (`chat:*`)
 * side by side. docs/protocols/ai-namespace.md describes each one. Every
 * event name the server uses is a key of these two maps.
 */

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** `ai_response`: the whole reply of a non-streaming ai_request. */
export interface AiResponse {
  requestId: RequestId;
  response: string;
  model: string;
  /** The stored reply's id. */
  messageId: string;
  usage: TokenUsage;
}

export interface AiStreamStart {
  requestId: RequestId;
  model: string;
  /** The reply's id, which names the turn for turn:resume (not in the seed). */
  messageId: string;
}

export interface AiStreamChunk {
  requestId: RequestId;
  chunk: { text: string; isComplete: boolean };
  /** The chunk's number in the turn, for turn:resume's `after` (not in the seed). */
  seq: number;
}

/** `ai_stream_end`: the same fields as ai_response, after the last chunk. */
export type AiStreamEnd = AiResponse;

/** `requestId` is null when the failed event carried no valid one (or was clear_history). */
export interface AiError extends SocketErrorDetails {
  requestId: RequestId | null;
  error: string;
}

export interface ChatConversation {
  conversationId: string;
}

export interface ChatUserMessage {
  messageId: string;
  content: string;
  conversationId: string;
}

export interface ChatMessageChunk {
  content: string;
  conversationId: string;
  /** The id the reply is stored under once it ends; it names the turn for turn:resume. */
  messageId: string;
  /** The chunk's number in the turn, for turn:resume's `after` (not in the seed). */
  seq: number;
}

export interface ChatEnd {
  /** Prompt plus completion tokens of this reply. */
  totalTokens: number;
  model: string;
  messageId: string;
  conversationId: string;
}

export interface ChatError extends SocketErrorDetails {
  message: string;
}

/** Fields are null when there was nothing to stop, or when the stopped turn had not got that far. */
export interface ChatStopped {
  conversationId: string | null;
  messageId: string | null;
}

/** Payload types document the wire; handlers take `unknown` and parse it (ai-namespace-payloads.ts). */
export interface AiClientEvents {
  ai_request: (payload: AiRequestPayload) => void;
  clear_history: (options?: ClearHistoryPayload) => void;
  'chat:start': (payload: ChatStartPayload) => void;
  'chat:stop': () => void;
  /** Picks up a turn this user started, from any connection: the events after `after`, then the rest live. */
  'turn:resume': (payload: TurnResumePayload) => void;
}

/** Every client event of /ai; chat:start may continue a conversation by id. */
export const aiNamespaceClientEvents: ClientEventTable<AiClientEvents> = {
  ai_request: {},
  clear_history: {},
  'chat:start': { idField: 'conversationId' },
  'chat:stop': {},
  'turn:resume': { idField: 'turnId' },
};

export interface AiServerEvents {
  ai_response: (payload: AiResponse) => void;
  ai_stream_start: (payload: AiStreamStart) => void;
  ai_stream_chunk: (payload: AiStreamChunk) => void;
  ai_stream_end: (payload: AiStreamEnd) => void;
  ai_error: (payload: AiError) => void;
  history_cleared: (payload: { success: true }) => void;
  'chat:conversation': (payload: ChatConversation) => void;
  'chat:user-message': (payload: ChatUserMessage) => void;
  'chat:message': (payload: ChatMessageChunk) => void;
  'chat:end': (payload: ChatEnd) => void;
  'chat:error': (payload: ChatError) => void;
  'chat:stopped': (payload: ChatStopped) => void;
}

/** Set by the connection middleware before any event handler runs. */
export interface AiSocketData {
  identity: Identity;
}

type NoServerSideEvents = Record<string, never>;

export type AiNamespace = Namespace<AiClientEvents, AiServerEvents, NoServerSideEvents, AiSocketData>;
export type AiSocket = Socket<AiClientEvents, AiServerEvents, NoServerSideEvents, AiSocketData>;
