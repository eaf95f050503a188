/**
 * Translates a provider-port request into the Messages API's: messages
 * (tool calls, tool results, images as blocks), tools, JSON output as a
 * forced tool, and sampling settings in Anthropic's names.
 */
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageParam,
  Tool,
  ToolChoice as ToolChoiceParam,
} from '@anthropic-ai/sdk/resources/messages';
import { invalidRequest } from '../core/errors.js';
import type { ChatMessage, ResponseFormat, SamplingOptions, ToolCall, ToolOptions } from './chat-provider.js';

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

export function anthropicTools(tools: ToolOptions | undefined) {
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
export function jsonOutputTool(format: ResponseFormat, tools: ToolOptions | undefined): Tool {
  if (tools !== undefined) throw invalidRequest('response_format: Claude models cannot combine JSON output with tools', 'response_format');
  if (format.type === 'json_object')
    return { name: 'json_object', description: 'Answer with a JSON object.', input_schema: { type: 'object' } };
  return {
    name: format.name,
    description: format.description ?? 'Answer with JSON matching this schema.',
    input_schema: (format.schema ?? { type: 'object' }) as Tool['input_schema'],
  };
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
export function anthropicSampling(sampling: SamplingOptions | undefined) {
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
