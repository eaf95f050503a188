import type { FastifyReply } from 'fastify';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { ChatEvent } from '../../chat/chat-events.js';
import type { AppError } from '../../core/errors.js';
import { sendError } from '../../http/error-handler.js';
import { httpStatusByCode } from '../../http/http-errors.js';
import { endAbandoned, type TurnStreamEncoder } from '../../http/turn-event-stream.js';
import type { StoredMessage } from '../../store/chat-store.js';
import { toSentMessageResponse } from './response-mappers.js';
import { encodeDelta, encodeError, encodeEvent } from './session-stream-events.js';

/**
 * A turn as seed 002's Server-Sent Events: message_start once the provider
 * accepted the request (so a turn refused outright still answers with a
 * status code and a JSON error), delta…, then done or error.
 */
export class SessionReplyStream implements TurnStreamEncoder {
  readonly opensAt = 'message-start';
  private userMessage: StoredMessage | undefined;
  private replySiblingIds: string[] | undefined;

  encode(event: ChatEvent): string {
    switch (event.type) {
      case 'turn-start':
        this.userMessage = event.userMessage;
        this.replySiblingIds = event.replySiblingIds;
        return '';
      case 'message-start':
        return encodeEvent({
          type: 'message_start',
          session_id: this.userMessage!.conversationId,
          user_message_id: this.userMessage!.id,
          message_id: event.messageId,
          model: event.model,
        });
      case 'text-delta':
        return encodeDelta(event.text);
      case 'turn-finish':
        return encodeEvent({ type: 'done', message: toSentMessageResponse(event.message, this.userMessage!.id, this.replySiblingIds) });
      case 'turn-error':
        return encodeError(event.error);
      default:
        return '';
    }
  }

  /** The stored partial reply, status interrupted. */
  interrupted(message: StoredMessage): string {
    return encodeEvent({ type: 'done', message: toSentMessageResponse(message, this.userMessage!.id, this.replySiblingIds) });
  }

  refuse(reply: FastifyReply, error: AppError): void {
    sendError(reply, httpStatusByCode[error.code], error);
  }
}

/** Answers a turn with the stored reply as JSON once it is complete. */
export async function sendReply(reply: FastifyReply, reader: TurnReader): Promise<void> {
  let userMessageId = '';
  let replySiblingIds: string[] | undefined;
  for await (const event of reader) {
    switch (event.type) {
      case 'turn-start':
        userMessageId = event.userMessage.id;
        replySiblingIds = event.replySiblingIds;
        break;
      case 'turn-finish':
        void reply.send(toSentMessageResponse(event.message, userMessageId, replySiblingIds));
        break;
      case 'turn-error':
        sendError(reply, httpStatusByCode[event.error.code], event.error);
        break;
      case 'turn-abort':
        endAbandoned(reply);
        break;
    }
  }
}
