import type { ClientEventTable } from '../../realtime/socket-surface.js';
import type { SocketErrorDetails } from '../../realtime/socket-error-details.js';
import type { ErrorCode } from '../../core/errors.js';

/**
 * The wire payloads of seed 003 (docs/protocols/stream-v2.md), for both the
 * SSE endpoint and the default Socket.IO namespace. Every event name of the
 * socket side lives in the two maps below.
 */

/** One piece of the reply: an SSE `data:` line, and with messageId and seq the `ai:stream` event. */
export interface StreamChunk {
  content: string;
  sessionId: string;
  /** `ai:stream` only (not in the seed): the reply's id, which names the turn for turn:resume. */
  messageId?: string;
  /** `ai:stream` only (not in the seed): the chunk's number in the turn, for turn:resume's `after`. */
  seq?: number;
}

/** The last SSE line of a successful turn. */
export interface StreamDone {
  done: true;
  sessionId: string;
}

/** `ai:complete`: the whole stored reply. */
export interface StreamComplete {
  response: string;
  sessionId: string;
  /** The stored reply's id (not in the seed). */
  messageId: string;
}

/** The SSE error line and `ai:error`. `sessionId` is absent when the request never got one (bad payload, refused token). */
/** `field` and `retryAfter` only on `ai:error`; the SSE error line has code and message. */
export interface StreamFailure extends Partial<SocketErrorDetails> {
  error: string;
  code: ErrorCode;
  sessionId?: string;
}

export interface ClientToServerEvents {
  /** `{ message, sessionId?, token? }`; untrusted until chatPayloadSchema has parsed it. */
  'ai:chat': (payload: unknown) => void;
  /** `{ turnId, after?, token? }`: picks up one of the caller's turns (docs/protocols/stream-v2.md). */
  'turn:resume': (payload: unknown) => void;
}

/** Every client event of seed 003's socket side; ai:chat continues a session by id. */
export const streamV2ClientEvents: ClientEventTable<ClientToServerEvents> = {
  'ai:chat': { idField: 'sessionId' },
  'turn:resume': { idField: 'turnId' },
};

export interface ServerToClientEvents {
  'ai:stream': (chunk: StreamChunk) => void;
  'ai:complete': (complete: StreamComplete) => void;
  'ai:error': (failure: StreamFailure) => void;
}
