import type { AppError, ErrorCode } from '../../core/errors.js';
import type { SentMessageResponse } from './message-schemas.js';

/**
 * The Server-Sent Events of POST /api/v1/chat/messages (see
 * docs/protocols/chat-sessions.md). Each event is a single `data:` line of
 * JSON with a `type`, and no `event:` line, so both a fetch reader loop and
 * EventSource's onmessage see every event.
 */
export type SessionStreamEvent =
  | { type: 'message_start'; session_id: string; user_message_id: string; message_id: string; model: string }
  | { type: 'delta'; content: string }
  | { type: 'done'; message: SentMessageResponse }
  | { type: 'error'; code: ErrorCode; message: string };

export function encodeEvent(event: SessionStreamEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** The per-token event, built by concatenation so a token costs one JSON.stringify of its text. */
export function encodeDelta(text: string): string {
  return `data: {"type":"delta","content":${JSON.stringify(text)}}\n\n`;
}

/** The last event of a failed turn; an AppError's message is safe to show. */
export function encodeError(error: AppError): string {
  return encodeEvent({ type: 'error', code: error.code, message: error.message });
}
