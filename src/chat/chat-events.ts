import type { AppError } from '../core/errors.js';
import type { Conversation, StoredMessage } from '../store/chat-store.js';
import type { FinishReason, ProviderStreamPart } from '../providers/chat-provider.js';

/**
 * The one stream every transport maps to its wire format. A turn yields
 * `turn-start`, then `message-start` once the provider accepted the request,
 * any number of `text-delta` (and, for a reply that calls tools,
 * `tool-call` and `tool-arguments`), then `usage`, and ends with exactly one of
 * `turn-finish`, `turn-error` or `turn-abort`.
 *
 * A transport that has sent nothing yet when `turn-error` arrives may still
 * answer with a status code; `message-start` is the point after which it is
 * safe to commit to a streaming response.
 */
export type ChatEvent =
  /**
   * `replyId` is the reply's message id, stored in progress from here on: the
   * turn's id for resuming it. `replySiblingIds`: the reply's versions, itself
   * last (more than one when it is a regenerated reply).
   */
  | {
      type: 'turn-start';
      conversation: Conversation;
      conversationCreated: boolean;
      userMessage: StoredMessage;
      replyId: string;
      replySiblingIds: string[];
    }
  | { type: 'message-start'; messageId: string; model: string; provider: string }
  | { type: 'text-delta'; text: string }
  | Extract<ProviderStreamPart, { type: 'tool-call' | 'tool-arguments' | 'logprobs' }>
  | { type: 'usage'; promptTokens: number; completionTokens: number }
  | { type: 'turn-finish'; message: StoredMessage; finishReason: FinishReason }
  /** `message` is the stored failed reply, absent when the turn failed before anything was stored. */
  | { type: 'turn-error'; error: AppError; message: StoredMessage | undefined }
  /** The caller's signal fired: `message` is the partial reply, stored as interrupted. */
  | { type: 'turn-abort'; message: StoredMessage | undefined };
