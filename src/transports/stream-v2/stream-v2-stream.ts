import type { FastifyReply } from 'fastify';
import type { ChatEvent } from '../../chat/chat-events.js';
import type { AppError } from '../../core/errors.js';
import { sendError } from '../../http/error-handler.js';
import { httpStatusByCode } from '../../http/http-errors.js';
import type { TurnStreamEncoder } from '../../http/turn-event-stream.js';
import { StreamV2Lines } from './stream-v2-lines.js';

/**
 * A turn as seed 003's SSE data lines. The stream opens once the user
 * message is stored (turn-start): a refused token or body is a 4xx JSON
 * error before it, and any later failure, the provider refusing included,
 * is its last `data:` line.
 */
export class StreamV2Stream implements TurnStreamEncoder {
  readonly opensAt = 'turn-start';
  private readonly lines: StreamV2Lines;

  constructor(sessionId: string) {
    this.lines = new StreamV2Lines(sessionId);
  }

  encode(event: ChatEvent): string {
    switch (event.type) {
      case 'text-delta':
        return this.lines.content(event.text);
      case 'turn-finish':
        return this.lines.done();
      case 'turn-error':
        return this.lines.error(event.error);
      default:
        return '';
    }
  }

  interrupted(): string {
    return this.lines.interrupted();
  }

  refuse(reply: FastifyReply, error: AppError): void {
    sendError(reply, httpStatusByCode[error.code], error);
  }
}
