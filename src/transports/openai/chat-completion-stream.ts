import type { FastifyReply } from 'fastify';
import type { ChatEvent } from '../../chat/chat-events.js';
import type { AppError } from '../../core/errors.js';
import type { TurnStreamEncoder } from '../../http/turn-event-stream.js';
import { ChatCompletionChunks } from './chat-completion-chunks.js';
import { openAIErrorBody, sendOpenAIError } from './openai-error-body.js';

/** What a resumed /v1 stream must encode as the first one did. */
export interface ChatCompletionWire {
  includeUsage: boolean;
}

const interruptedEvent = `data: ${JSON.stringify({
  error: { message: 'The reply was interrupted before it finished', type: 'server_error', param: null, code: 'reply_interrupted' },
})}\n\n`;

/** A turn as OpenAI's streamed `chat.completion.chunk` events, ending with `data: [DONE]`. */
export class ChatCompletionStream implements TurnStreamEncoder {
  readonly opensAt = 'message-start';
  private chunks: ChatCompletionChunks | undefined;
  private usage = '';
  private created = 0;

  constructor(private readonly wire: ChatCompletionWire) {}

  encode(event: ChatEvent): string {
    switch (event.type) {
      case 'turn-start':
        this.created = Math.floor(Date.parse(event.userMessage.createdAt) / 1000);
        return '';
      case 'message-start':
        this.chunks = new ChatCompletionChunks(`chatcmpl-${event.messageId}`, event.model, this.wire.includeUsage, this.created);
        return this.chunks.role();
      case 'text-delta':
        return this.chunks!.delta(event.text);
      case 'tool-call':
        return this.chunks!.toolCall(event.index, event.id, event.name);
      case 'tool-arguments':
        return this.chunks!.toolArguments(event.index, event.arguments);
      case 'logprobs':
        return this.chunks!.logprobs(event.content);
      case 'usage':
        if (this.wire.includeUsage) this.usage = this.chunks!.usage(event.promptTokens, event.completionTokens);
        return '';
      case 'turn-finish':
        return `${this.chunks!.finish(event.finishReason)}${this.usage}${ChatCompletionChunks.done}`;
      case 'turn-error':
        // After the first byte the status is sent; OpenAI reports a late failure as an error event.
        return `data: ${JSON.stringify(openAIErrorBody(event.error, 0))}\n\n`;
      default:
        return '';
    }
  }

  /** OpenAI has no finish reason for a reply cut short (a stop, a crash): an error event says so; the partial text is stored. */
  interrupted(): string {
    return interruptedEvent;
  }

  refuse(reply: FastifyReply, error: AppError): void {
    sendOpenAIError(reply, error);
  }
}
