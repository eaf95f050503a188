import type { FastifyReply } from 'fastify';
import type { ChatEvent } from '../../core/chat-events.js';
import { sendError } from '../../http/error-handler.js';
import { openEventStream } from '../../http/event-stream-response.js';
import { httpStatusByCode } from '../../http/http-errors.js';
import type { StoredMessage } from '../../store/chat-store.js';
import { toSentMessageResponse } from './response-mappers.js';
import { encodeDelta, encodeError, encodeEvent } from './session-stream-events.js';

/**
 * Writes a turn as Server-Sent Events. The stream opens only once the
 * provider accepted the request, so a turn refused outright (bad key, rate
 * limit, unknown model) still answers with a status code and a JSON error;
 * after that a failure is the stream's last event.
 */
export async function streamReply(reply: FastifyReply, events: AsyncIterable<ChatEvent>): Promise<void> {
  const raw = reply.raw;
  let userMessage: StoredMessage | undefined;
  let opened = false;
  for await (const event of events) {
    switch (event.type) {
      case 'turn-start':
        userMessage = event.userMessage;
        break;
      case 'message-start':
        openEventStream(reply);
        opened = true;
        raw.write(
          encodeEvent({
            type: 'message_start',
            session_id: userMessage!.conversationId,
            user_message_id: userMessage!.id,
            message_id: event.messageId,
            model: event.model,
          }),
        );
        break;
      case 'text-delta':
        raw.write(encodeDelta(event.text));
        break;
      case 'turn-finish':
        raw.end(encodeEvent({ type: 'done', message: toSentMessageResponse(event.message, userMessage!.id) }));
        break;
      case 'turn-error':
        if (opened) raw.end(encodeError(event.error));
        else sendError(reply, httpStatusByCode[event.error.code], event.error);
        break;
      case 'turn-abort':
        endAbandoned(reply);
        break;
    }
  }
}

/** Answers a turn with the stored reply as JSON once it is complete. */
export async function sendReply(reply: FastifyReply, events: AsyncIterable<ChatEvent>): Promise<void> {
  let userMessageId = '';
  for await (const event of events) {
    switch (event.type) {
      case 'turn-start':
        userMessageId = event.userMessage.id;
        break;
      case 'turn-finish':
        void reply.send(toSentMessageResponse(event.message, userMessageId));
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

/** The client has gone and the engine stored the partial reply: close the response without an answer. */
function endAbandoned(reply: FastifyReply): void {
  if (reply.raw.writableEnded) return;
  if (!reply.raw.headersSent) reply.hijack();
  reply.raw.end();
}
