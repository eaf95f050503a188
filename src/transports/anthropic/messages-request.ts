import { z } from 'zod';
import { unansweredToolResult } from '../../chat/tool-history.js';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage, ContentPart, SamplingOptions, ToolOptions } from '../../providers/chat-provider.js';

/**
 * Whether Parley speaks this `anthropic-version`. Every dated version since
 * the first (2023-01-01) has the same wire format for what Parley serves
 * (2023-06-01 changed streaming events, and Parley sends the new ones);
 * SDKs send their own release's date, so any later date is accepted.
 */
export function isKnownAnthropicVersion(version: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= '2023-01-01';
}

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('base64'),
      media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
      data: z.string().min(1),
    }),
    z.looseObject({ type: z.literal('url'), url: z.url({ protocol: /^https?$/ }) }),
  ]),
});

const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()),
});

const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1).max(200),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});

const block = z.discriminatedUnion('type', [textBlock, imageBlock, toolUseBlock, toolResultBlock], {
  error: 'must be a text, image, tool_use or tool_result block',
});

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

/** Anthropic's rule for tool names. */
const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, { error: 'must be 1 to 128 letters, digits, underscores or dashes' });

/** The Messages API request; fields Parley does not use are accepted and ignored unless refusedFields names them. */
export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().positive(),
  messages: z.array(message).min(1).max(10_000),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  stop_sequences: z.array(z.string().min(1)).max(16).optional(),
  metadata: z.looseObject({ user_id: z.string().max(256).nullish() }).optional(),
  tools: z
    .array(
      z.looseObject({
        name: toolName,
        description: z.string().max(10_000).optional(),
        input_schema: z.record(z.string(), z.unknown()),
      }),
    )
    .max(128)
    .optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
      z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
      z.looseObject({ type: z.literal('tool'), name: toolName, disable_parallel_tool_use: z.boolean().optional() }),
      z.looseObject({ type: z.literal('none') }),
    ])
    .optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** Messages API features Parley cannot honour yet: refused, naming the field, rather than dropped. */
const refusedFields: { field: string; used: (value: unknown) => boolean }[] = [
  { field: 'thinking', used: (value) => typeof value === 'object' && value !== null && (value as { type?: unknown }).type !== 'disabled' },
  { field: 'mcp_servers', used: (value) => Array.isArray(value) && value.length > 0 },
  { field: 'container', used: (value) => value !== undefined && value !== null },
];

export function refuseUnsupported(body: Record<string, unknown>): void {
  for (const { field, used } of refusedFields) {
    if (used(body[field])) throw invalidRequest(`${field}: not supported by Parley yet`, field);
  }
}

export function systemOf(body: MessagesRequest): string | undefined {
  if (body.system === undefined) return undefined;
  const text = typeof body.system === 'string' ? body.system : body.system.map((part) => part.text).join('\n\n');
  return text === '' ? undefined : text;
}

/** The sampling settings a provider is asked for, in Parley's names (an adapter refuses what it cannot do). */
export function samplingOf(body: MessagesRequest): SamplingOptions | undefined {
  const sampling: SamplingOptions = {};
  if (body.stop_sequences !== undefined && body.stop_sequences.length > 0) sampling.stop = body.stop_sequences;
  if (body.top_p !== undefined) sampling.topP = body.top_p;
  if (body.top_k !== undefined) sampling.topK = body.top_k;
  if (body.metadata?.user_id != null) sampling.user = body.metadata.user_id;
  return Object.keys(sampling).length === 0 ? undefined : sampling;
}

export function toolsOf(body: MessagesRequest): ToolOptions | undefined {
  if (body.tools === undefined || body.tools.length === 0) {
    if (body.tool_choice !== undefined && body.tool_choice.type !== 'none' && body.tool_choice.type !== 'auto') {
      throw invalidRequest('tool_choice: requires `tools`', 'tool_choice');
    }
    return undefined;
  }
  const tools: ToolOptions = {
    tools: body.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.input_schema,
    })),
  };
  const choice = body.tool_choice;
  if (choice === undefined) return tools;
  if (choice.type === 'tool') {
    if (!tools.tools.some((tool) => tool.name === choice.name))
      throw invalidRequest(`tool_choice.name: no tool is named '${choice.name}'`, 'tool_choice');
    tools.choice = { name: choice.name };
  } else tools.choice = choice.type === 'any' ? 'required' : choice.type;
  if (choice.type !== 'none' && choice.disable_parallel_tool_use === true) tools.parallel = false;
  return tools;
}

export interface ParsedMessages {
  /** Everything before the new message. */
  context: ChatMessage[];
  /** The new message: the user's, or a tool's result. */
  last: ChatMessage;
}

/**
 * Anthropic messages as the provider port's: a user turn's `tool_result`
 * blocks become `tool` messages (one per result, in order), its other
 * blocks a user message; an assistant's `tool_use` blocks become its tool
 * calls, their input as JSON text.
 */
export function parseMessages(messages: MessagesRequest['messages']): ParsedMessages {
  const context: ChatMessage[] = [];
  messages.forEach((entry, index) => {
    if (typeof entry.content === 'string') context.push({ role: entry.role, content: entry.content });
    else if (entry.role === 'assistant') context.push(assistantMessage(entry.content, index));
    else context.push(...userMessages(entry.content, index));
  });
  const orphan = unansweredToolResult(context);
  if (orphan !== undefined) {
    throw invalidRequest(
      `messages: the tool_result for '${orphan.toolCallId}' answers no tool_use block of the assistant message before it`,
      'messages',
    );
  }
  const last = context.pop();
  if (last === undefined || messages.at(-1)?.role !== 'user' || last.role === 'assistant') {
    throw invalidRequest('messages: the last message must have role "user" and some content', 'messages');
  }
  return { context, last };
}

type Block = z.infer<typeof block>;

function assistantMessage(blocks: Block[], index: number): ChatMessage {
  const message: ChatMessage = { role: 'assistant', content: '' };
  for (const item of blocks) {
    if (item.type === 'text') message.content += item.text;
    else if (item.type === 'tool_use')
      (message.toolCalls ??= []).push({ id: item.id, name: item.name, arguments: JSON.stringify(item.input) });
    else
      throw invalidRequest(
        `messages.${index}.content: an assistant message holds text and tool_use blocks only`,
        `messages.${index}.content`,
      );
  }
  return message;
}

function userMessages(blocks: Block[], index: number): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const item of blocks) {
    if (item.type === 'tool_result') {
      const content =
        typeof item.content === 'string'
          ? item.content
          : (item.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
      messages.push({ role: 'tool', content: item.is_error === true ? `Error: ${content}` : content, toolCallId: item.tool_use_id });
    } else if (item.type === 'text') parts.push({ type: 'text', text: item.text });
    else if (item.type === 'image') {
      const source = item.source;
      parts.push({ type: 'image', url: source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}` });
    } else
      throw invalidRequest(
        `messages.${index}.content: a user message holds text, image and tool_result blocks only`,
        `messages.${index}.content`,
      );
  }
  if (parts.length > 0) {
    const content = parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
    messages.push(parts.some((part) => part.type === 'image') ? { role: 'user', content, parts } : { role: 'user', content });
  }
  return messages;
}
