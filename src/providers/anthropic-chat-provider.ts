import Anthropic from '@anthropic-ai/sdk';
import type { EventSourceMessage } from 'eventsource-parser';
import { AppError } from '../core/errors.js';
import type { AnthropicProviderConfig } from '../config/config.js';
import type { ChatProvider, ChatRequest, FinishReason, ProviderStreamPart } from './chat-provider.js';
import { anthropicSampling, anthropicTools, jsonOutputTool, toAnthropicMessages } from './anthropic-request.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { DecodedOutput, openUpstreamStream, streamEndedEarly, type StreamDecoder } from './event-stream-reader.js';
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
    const jsonTool = request.responseFormat === undefined ? undefined : jsonOutputTool(request.responseFormat, request.tools);
    const messages = toAnthropicMessages(request.messages);
    return openUpstreamStream(
      () =>
        this.client.messages
          .create(
            {
              model: request.model,
              max_tokens: request.maxTokens ?? defaultMaxTokens,
              messages,
              stream: true,
              ...(request.system === undefined ? {} : { system: request.system }),
              ...(request.temperature === undefined ? {} : { temperature: Math.min(request.temperature, 1) }),
              ...sampling,
              ...(jsonTool === undefined
                ? anthropicTools(request.tools)
                : { tools: [jsonTool], tool_choice: { type: 'tool', name: jsonTool.name } }),
            },
            { signal: request.signal },
          )
          .asResponse(),
      new AnthropicMessageDecoder(jsonTool?.name),
      label,
    );
  }
}

interface MessageStreamEvent {
  type: string;
  index?: number;
  message?: { usage?: { input_tokens?: number } };
  content_block?: { type?: string; id?: string; name?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: { output_tokens?: number };
  error?: { type?: string; message?: string };
}

/** Decodes Messages API stream events; see https://docs.anthropic.com/en/api/messages-streaming */
class AnthropicMessageDecoder implements StreamDecoder {
  ended = false;
  private readonly output = new DecodedOutput();
  /** The reply's tool calls by content block index, numbered from 0. */
  private readonly toolCallNumbers = new Map<number, number>();
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private finishReason: FinishReason | undefined;
  /** The content block of the JSON output tool's call, whose input is the reply's text. */
  private jsonBlock: number | undefined;

  /** `jsonTool`: the forced tool standing for JSON output (jsonOutputTool), if any. */
  constructor(private readonly jsonTool: string | undefined = undefined) {}

  onEvent(event: EventSourceMessage): void {
    const data = JSON.parse(event.data) as MessageStreamEvent;
    switch (data.type) {
      case 'content_block_delta':
        if (data.delta?.type === 'text_delta' && data.delta.text) this.output.addText(data.delta.text);
        else if (data.delta?.type === 'input_json_delta' && data.delta.partial_json) {
          if (this.jsonBlock !== undefined && data.index === this.jsonBlock) return this.output.addText(data.delta.partial_json);
          const index = this.toolCallNumbers.get(data.index ?? -1);
          if (index !== undefined) this.output.addPart({ type: 'tool-arguments', index, arguments: data.delta.partial_json });
        }
        return;
      case 'content_block_start':
        if (data.content_block?.type === 'tool_use' && this.jsonTool !== undefined && data.content_block.name === this.jsonTool) {
          this.jsonBlock = data.index;
        } else if (data.content_block?.type === 'tool_use') {
          const index = this.toolCallNumbers.size;
          this.toolCallNumbers.set(data.index ?? -1, index);
          this.output.addPart({
            type: 'tool-call',
            index,
            id: data.content_block.id ?? `toolu_${index}`,
            name: data.content_block.name ?? '',
          });
        }
        return;
      case 'message_start':
        this.inputTokens = data.message?.usage?.input_tokens;
        return;
      case 'message_delta':
        if (data.usage?.output_tokens !== undefined) this.outputTokens = data.usage.output_tokens;
        // The forced JSON tool's call is the whole answer: it ends as a plain reply.
        if (data.delta?.stop_reason)
          this.finishReason =
            this.jsonTool !== undefined && data.delta.stop_reason === 'tool_use' ? 'stop' : toFinishReason(data.delta.stop_reason);
        return;
      case 'message_stop':
        this.ended = true;
        return;
      case 'error':
        throw new AppError('provider_error', `Anthropic failed mid-stream: ${data.error?.message ?? 'unknown error'}`, { retryable: true });
    }
  }

  takeText(): string {
    return this.output.takeText();
  }

  takeParts(): ProviderStreamPart[] {
    return this.output.takeParts();
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
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'refusal') return 'content_filter';
  return 'other';
}
