import Anthropic from '@anthropic-ai/sdk';
import type { EventSourceMessage } from 'eventsource-parser';
import { AppError, invalidRequest } from '../core/errors.js';
import type { AnthropicProviderConfig } from '../config/config.js';
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageParam,
  Tool,
  ToolChoice as ToolChoiceParam,
} from '@anthropic-ai/sdk/resources/messages';
import type {
  ChatMessage,
  ChatProvider,
  ChatRequest,
  FinishReason,
  ProviderStreamPart,
  ResponseFormat,
  SamplingOptions,
  ToolCall,
  ToolOptions,
} from './chat-provider.js';
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

/**
 * The Messages API takes only user and assistant turns, strictly alternating
 * and starting with the user; stored history can break that (a failed reply
 * is left out, a system message sits in history), so neighbours are merged.
 * A tool's result is a `tool_result` block in a user turn, an assistant's
 * tool calls `tool_use` blocks, images `image` blocks; plain text stays a string.
 */
export function toAnthropicMessages(messages: ChatMessage[]): MessageParam[] {
  const result: MessageParam[] = [];
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const content = anthropicContent(message);
    const previous = result.at(-1);
    if (previous !== undefined && previous.role === role) previous.content = joinContent(previous.content, content);
    else if (result.length === 0 && role === 'assistant') continue;
    else result.push({ role, content });
  }
  return result;
}

function anthropicContent(message: ChatMessage): string | ContentBlockParam[] {
  if (message.role === 'tool') return [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content }];
  if (message.toolCalls !== undefined) {
    const blocks: ContentBlockParam[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
    for (const call of message.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call) });
    return blocks;
  }
  if (message.parts === undefined) return message.content;
  return message.parts.flatMap((part): ContentBlockParam[] => {
    if (part.type === 'text') return part.text === '' ? [] : [{ type: 'text', text: part.text }];
    return [{ type: 'image', source: imageSource(part.url) }];
  });
}

function joinContent(previous: MessageParam['content'], next: string | ContentBlockParam[]): MessageParam['content'] {
  if (typeof previous === 'string' && typeof next === 'string') return `${previous}\n\n${next}`;
  const blocks = (content: string | ContentBlockParam[]): ContentBlockParam[] =>
    typeof content === 'string' ? (content === '' ? [] : [{ type: 'text', text: content }]) : content;
  return [...blocks(previous as string | ContentBlockParam[]), ...blocks(next)];
}

/** Anthropic takes a call's input as an object; OpenAI clients send it back as the JSON text the model wrote. */
function toolInput(call: ToolCall): Record<string, unknown> {
  try {
    const input: unknown = JSON.parse(call.arguments === '' ? '{}' : call.arguments);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input as Record<string, unknown>;
  } catch {
    // Refused below.
  }
  throw invalidRequest(`messages: the arguments of tool call ${call.id} are not a JSON object`, 'messages');
}

const dataUrl = /^data:(image\/(?:jpeg|png|gif|webp));base64,(.*)$/s;

function imageSource(url: string): ImageBlockParam['source'] {
  if (!url.startsWith('data:')) return { type: 'url', url };
  const match = dataUrl.exec(url);
  if (match === null) throw invalidRequest('image_url: a data URL must be base64 JPEG, PNG, GIF or WebP for Claude models', 'messages');
  return { type: 'base64', media_type: match[1] as 'image/jpeg', data: match[2]! };
}

function anthropicTools(tools: ToolOptions | undefined) {
  if (tools === undefined) return {};
  const disableParallel = tools.parallel === false ? { disable_parallel_tool_use: true } : {};
  let toolChoice: ToolChoiceParam | undefined;
  const choice = tools.choice;
  if (choice === 'none') toolChoice = { type: 'none' };
  else if (choice === 'required') toolChoice = { type: 'any', ...disableParallel };
  else if (typeof choice === 'object') toolChoice = { type: 'tool', name: choice.name, ...disableParallel };
  else if (tools.parallel === false) toolChoice = { type: 'auto', ...disableParallel };
  return {
    tools: tools.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: (tool.parameters ?? { type: 'object', properties: {} }) as Tool['input_schema'],
    })),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
  };
}

/**
 * Claude has no JSON mode: structured output is asked for, as Anthropic
 * recommends, as a call of one forced tool whose input schema is the
 * wanted JSON; the call's input comes back as the reply's text.
 */
function jsonOutputTool(format: ResponseFormat, tools: ToolOptions | undefined): Tool {
  if (tools !== undefined) throw invalidRequest('response_format: Claude models cannot combine JSON output with tools', 'response_format');
  if (format.type === 'json_object')
    return { name: 'json_object', description: 'Answer with a JSON object.', input_schema: { type: 'object' } };
  return {
    name: format.name,
    description: format.description ?? 'Answer with JSON matching this schema.',
    input_schema: (format.schema ?? { type: 'object' }) as Tool['input_schema'],
  };
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

/** Claude has no seed, penalties, logit bias nor log probabilities: asked for them, it refuses, naming the field, rather than dropping them. */
const unsupportedByClaude = [
  ['seed', 'seed'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['logitBias', 'logit_bias'],
  ['logprobs', 'logprobs'],
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
    ...(sampling.topK === undefined ? {} : { top_k: sampling.topK }),
    ...(sampling.user === undefined ? {} : { metadata: { user_id: sampling.user } }),
  };
}
