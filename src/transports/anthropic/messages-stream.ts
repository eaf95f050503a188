import type { FastifyReply } from 'fastify';
import type { ChatEvent } from '../../chat/chat-events.js';
import { AppError } from '../../core/errors.js';
import type { TurnStreamEncoder } from '../../http/turn-event-stream.js';
import type { FinishReason } from '../../providers/chat-provider.js';
import { anthropicErrorEvent, sendAnthropicError } from './anthropic-error-body.js';

const interruptedEvent = anthropicErrorEvent(new AppError('provider_error', 'The reply was interrupted before it finished'));

/**
 * A turn as the Messages API's stream: `message_start`, a content block
 * per run of text and per tool call (`content_block_start`, deltas,
 * `content_block_stop`), `message_delta` with the stop reason and usage,
 * `message_stop`. Blocks open as their first part arrives; the prefix of a
 * block's deltas is built once per block, so a token costs one
 * JSON.stringify of its text.
 */
export class MessagesStream implements TurnStreamEncoder {
  readonly opensAt = 'message-start';
  /** The index of the block open now, -1 before the first. */
  private blockIndex = -1;
  private blockOpen = false;
  private textPrefix = '';
  /** A tool call's block index, by the call's index. */
  private readonly toolBlocks: number[] = [];
  private outputTokens = 0;
  private inputTokens = 0;

  encode(event: ChatEvent): string {
    switch (event.type) {
      case 'message-start':
        return messageStart(event.messageId, event.model);
      case 'text-delta':
        if (this.textPrefix === '') return this.openTextBlock() + this.textPrefix + JSON.stringify(event.text) + '}}\n\n';
        return this.textPrefix + JSON.stringify(event.text) + '}}\n\n';
      case 'tool-call': {
        const opening = this.closeBlock();
        this.blockIndex++;
        this.blockOpen = true;
        this.toolBlocks[event.index] = this.blockIndex;
        const block = { type: 'tool_use', id: event.id, name: event.name, input: {} };
        return `${opening}${sse('content_block_start', { type: 'content_block_start', index: this.blockIndex, content_block: block })}`;
      }
      case 'tool-arguments': {
        const delta = { type: 'input_json_delta', partial_json: event.arguments };
        return sse('content_block_delta', { type: 'content_block_delta', index: this.toolBlocks[event.index], delta });
      }
      case 'usage':
        this.inputTokens = event.promptTokens;
        this.outputTokens = event.completionTokens;
        return '';
      case 'turn-finish': {
        const delta = { stop_reason: toStopReason(event.finishReason), stop_sequence: null };
        const usage = { input_tokens: this.inputTokens, output_tokens: this.outputTokens };
        return `${this.closeBlock()}${sse('message_delta', { type: 'message_delta', delta, usage })}${messageStop}`;
      }
      case 'turn-error':
        return anthropicErrorEvent(event.error);
      default:
        return '';
    }
  }

  /** The Messages API has no stop reason for a reply cut short: an error event says so; the partial reply is stored. */
  interrupted(): string {
    return interruptedEvent;
  }

  refuse(reply: FastifyReply, error: AppError): void {
    sendAnthropicError(reply, error);
  }

  private openTextBlock(): string {
    const closing = this.closeBlock();
    this.blockIndex++;
    this.blockOpen = true;
    this.textPrefix = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.blockIndex},"delta":{"type":"text_delta","text":`;
    const start = { type: 'content_block_start', index: this.blockIndex, content_block: { type: 'text', text: '' } };
    return `${closing}${sse('content_block_start', start)}`;
  }

  private closeBlock(): string {
    this.textPrefix = '';
    if (!this.blockOpen) return '';
    this.blockOpen = false;
    return sse('content_block_stop', { type: 'content_block_stop', index: this.blockIndex });
  }
}

const messageStop = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

function sse(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The first event: the message as it is before any output. Usage is known at the end, so it is reported in message_delta. */
function messageStart(messageId: string, model: string): string {
  const message = {
    id: `msg_${messageId}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  };
  return sse('message_start', { type: 'message_start', message });
}

export function toStopReason(reason: FinishReason): 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal' {
  if (reason === 'length') return 'max_tokens';
  if (reason === 'tool_calls') return 'tool_use';
  if (reason === 'content_filter') return 'refusal';
  return 'end_turn';
}
