import Anthropic from '@anthropic-ai/sdk';
import type { EventSourceMessage } from 'eventsource-parser';
import { AppError, invalidRequest } from '../core/errors.js';
import type { AnthropicProviderConfig } from '../config/config.js';
import type { ChatMessage, ChatProvider, ChatRequest, FinishReason, ProviderStreamPart, SamplingOptions } from './chat-provider.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { openUpstreamStream, streamEndedEarly, type StreamDecoder } from './event-stream-reader.js';
import type { UpstreamLabel } from './upstream-error.js';

const label: UpstreamLabel = { displayName: 'Anthropic', keyVariable: 'ANTHROPIC_API_KEY (or CLAUDE_API_KEY)' };

/** The Messages API requires max_tokens; this is used when neither the request nor the surface sets one. */
const defaultMaxTokens = 1024;

/** Claude through the official client; the stream is decoded as in openai-chat-provider.ts. */
export class AnthropicChatProvider implements ChatProvider {
  readonly name = 'anthropic';
  private readonly client: Anthropic;

  constructor(config: AnthropicProviderConfig) {
    this.client = new Anthropic({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? 'https://api.anthropic.com',
      maxRetries: 0,
      fetch: createNodeHttpFetch(),
    });
  }

  async streamChat(request: ChatRequest): Promise<AsyncIterable<ProviderStreamPart>> {
    const sampling = anthropicSampling(request.sampling);
    return openUpstreamStream(
      () =>
        this.client.messages
          .create(
            {
              model: request.model,
              max_tokens: request.maxTokens ?? defaultMaxTokens,
              messages: alternateRoles(request.messages),
              stream: true,
              ...(request.system === undefined ? {} : { system: request.system }),
              ...(request.temperature === undefined ? {} : { temperature: Math.min(request.temperature, 1) }),
              ...sampling,
            },
            { signal: request.signal },
          )
          .asResponse(),
      new AnthropicMessageDecoder(),
      label,
    );
  }
}

/**
 * The Messages API takes only user and assistant turns, strictly alternating
 * and starting with the user; stored history can break that (a failed reply
 * is left out, a system message sits in history), so neighbours are merged.
 */
function alternateRoles(messages: ChatMessage[]): { role: 'user' | 'assistant'; content: string }[] {
  const result: { role: 'user' | 'assistant'; content: string }[] = [];
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const previous = result.at(-1);
    if (previous !== undefined && previous.role === role) previous.content += `\n\n${message.content}`;
    else if (result.length === 0 && role === 'assistant') continue;
    else result.push({ role, content: message.content });
  }
  return result;
}

interface MessageStreamEvent {
  type: string;
  message?: { usage?: { input_tokens?: number } };
  delta?: { type?: string; text?: string; stop_reason?: string | null };
  usage?: { output_tokens?: number };
  error?: { type?: string; message?: string };
}

/** Decodes Messages API stream events; see https://docs.anthropic.com/en/api/messages-streaming */
class AnthropicMessageDecoder implements StreamDecoder {
  ended = false;
  private text = '';
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private finishReason: FinishReason | undefined;

  onEvent(event: EventSourceMessage): void {
    const data = JSON.parse(event.data) as MessageStreamEvent;
    switch (data.type) {
      case 'content_block_delta':
        if (data.delta?.type === 'text_delta' && data.delta.text) this.text += data.delta.text;
        return;
      case 'message_start':
        this.inputTokens = data.message?.usage?.input_tokens;
        return;
      case 'message_delta':
        if (data.usage?.output_tokens !== undefined) this.outputTokens = data.usage.output_tokens;
        if (data.delta?.stop_reason) this.finishReason = toFinishReason(data.delta.stop_reason);
        return;
      case 'message_stop':
        this.ended = true;
        return;
      case 'error':
        throw new AppError('provider_error', `Anthropic failed mid-stream: ${data.error?.message ?? 'unknown error'}`, { retryable: true });
    }
  }

  takeText(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  finish(): ProviderStreamPart[] {
    if (!this.ended) throw streamEndedEarly(label.displayName);
    const parts: ProviderStreamPart[] = [];
    if (this.inputTokens !== undefined && this.outputTokens !== undefined) {
      parts.push({ type: 'usage', promptTokens: this.inputTokens, completionTokens: this.outputTokens });
    }
    parts.push({ type: 'finish', reason: this.finishReason ?? 'stop' });
    return parts;
  }
}

function toFinishReason(reason: string): FinishReason {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens') return 'length';
  if (reason === 'refusal') return 'content_filter';
  return 'other';
}

/** Claude has no seed nor penalties: asked for them, it refuses, naming the field, rather than dropping them. */
const unsupportedByClaude = [
  ['seed', 'seed'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
] as const;

/** The sampling settings in Anthropic's names (`stop_sequences`, `top_p`, `metadata.user_id`). */
function anthropicSampling(sampling: SamplingOptions | undefined) {
  if (sampling === undefined) return {};
  for (const [option, field] of unsupportedByClaude) {
    if (sampling[option] !== undefined) throw invalidRequest(`${field}: Claude models do not support it`, field);
  }
  return {
    ...(sampling.stop === undefined ? {} : { stop_sequences: sampling.stop }),
    ...(sampling.topP === undefined ? {} : { top_p: sampling.topP }),
    ...(sampling.user === undefined ? {} : { metadata: { user_id: sampling.user } }),
  };
}
