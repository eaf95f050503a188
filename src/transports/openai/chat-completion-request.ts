import { z } from 'zod';
import { unansweredToolResult } from '../../chat/tool-history.js';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage, ContentPart, ResponseFormat, SamplingOptions, ToolOptions } from '../../providers/chat-provider.js';

const contentPart = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  image_url: z.looseObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }).optional(),
});

const toolCall = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string().min(1).max(200), arguments: z.string() }),
});

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).max(128).nullish(),
  tool_call_id: z.string().min(1).max(200).optional(),
});

/** OpenAI's rule for function names. */
const functionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, underscores or dashes' });

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: functionName,
    description: z.string().max(10_000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: functionName,
      description: z.string().max(10_000).optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** The fields Parley uses; others are accepted and ignored unless refusedFields names them. */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(message).min(1).max(10_000),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  n: z.literal(1, { error: 'only 1 choice per request is supported' }).nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string().regex(/^\d+$/, { error: 'keys must be token ids' }), z.number().min(-100).max(100)).nullish(),
  user: z.string().max(256).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(tool).max(128).nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.object({ name: functionName }) }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
});

/**
 * OpenAI parameters Parley cannot honour yet. A client that sends one wants
 * its effect (log probabilities, audio, a legacy function call): it is
 * refused, naming the field, rather than dropped.
 */
const refusedFields: { field: string; used: (value: unknown) => boolean; why: string }[] = [
  { field: 'functions', used: (value) => Array.isArray(value) && value.length > 0, why: 'deprecated by OpenAI; send `tools`' },
  {
    field: 'function_call',
    used: (value) => value !== undefined && value !== null && value !== 'none',
    why: 'deprecated by OpenAI; send `tool_choice`',
  },
  { field: 'audio', used: (value) => value !== undefined && value !== null, why: 'not supported by Parley yet' },
  { field: 'prediction', used: (value) => value !== undefined && value !== null, why: 'not supported by Parley yet' },
];

/** Throws invalid_request naming the first parameter Parley would otherwise have to drop. */
export function refuseUnsupported(body: Record<string, unknown>): void {
  for (const { field, used, why } of refusedFields) {
    if (used(body[field])) throw invalidRequest(`${field}: ${why}`, field);
  }
}

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** The sampling settings a provider is asked for (its adapter refuses what it cannot do). */
export function samplingOf(body: ChatCompletionRequest): SamplingOptions | undefined {
  const sampling: SamplingOptions = {};
  if (body.stop != null) sampling.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.top_p != null) sampling.topP = body.top_p;
  if (body.seed != null) sampling.seed = body.seed;
  if (body.presence_penalty != null) sampling.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) sampling.frequencyPenalty = body.frequency_penalty;
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) sampling.logitBias = body.logit_bias;
  if (body.user != null) sampling.user = body.user;
  if (body.logprobs === true) sampling.logprobs = { top: body.top_logprobs ?? 0 };
  else if (body.top_logprobs != null) throw invalidRequest('top_logprobs: requires `logprobs: true`', 'top_logprobs');
  return Object.keys(sampling).length === 0 ? undefined : sampling;
}

/** The tools the model may call; an empty list is no tools, as OpenAI treats it. */
export function toolsOf(body: ChatCompletionRequest): ToolOptions | undefined {
  if (body.tools == null || body.tools.length === 0) {
    if (body.tool_choice != null && body.tool_choice !== 'none' && body.tool_choice !== 'auto') {
      throw invalidRequest('tool_choice: requires `tools`', 'tool_choice');
    }
    return undefined;
  }
  const tools: ToolOptions = {
    tools: body.tools.map(({ function: definition }) => ({
      name: definition.name,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      ...(definition.parameters === undefined ? {} : { parameters: definition.parameters }),
      ...(definition.strict == null ? {} : { strict: definition.strict }),
    })),
  };
  const choice = body.tool_choice;
  if (choice != null) tools.choice = typeof choice === 'string' ? choice : { name: choice.function.name };
  if (typeof tools.choice === 'object' && !tools.tools.some((definition) => definition.name === (tools.choice as { name: string }).name)) {
    throw invalidRequest(`tool_choice: no tool is named '${tools.choice.name}'`, 'tool_choice');
  }
  if (body.parallel_tool_calls != null) tools.parallel = body.parallel_tool_calls;
  return tools;
}

export function responseFormatOf(body: ChatCompletionRequest): ResponseFormat | undefined {
  const format = body.response_format;
  if (format == null || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, strict, description } = format.json_schema;
  return {
    type: 'json_schema',
    name,
    ...(schema === undefined ? {} : { schema }),
    ...(strict == null ? {} : { strict }),
    ...(description === undefined ? {} : { description }),
  };
}

export interface ParsedConversation {
  system: string | undefined;
  /** Everything before the last message. */
  context: ChatMessage[];
  /** The last message, from the user or a tool. */
  last: ChatMessage;
}

/** Splits OpenAI messages into a system prompt, the prior context and the new message (the user's, or a tool's result). */
export function parseMessages(messages: ChatCompletionRequest['messages']): ParsedConversation {
  const systemParts: string[] = [];
  const context: ChatMessage[] = [];
  messages.forEach((entry, index) => {
    if (entry.role === 'system' || entry.role === 'developer') systemParts.push(textOf(entry.content, index));
    else if (entry.role === 'function') {
      throw invalidRequest(
        `messages[${index}].role: 'function' messages are deprecated by OpenAI; send 'tool' messages`,
        `messages[${index}].role`,
      );
    } else context.push(toChatMessage(entry, index));
  });
  const orphan = unansweredToolResult(context);
  if (orphan !== undefined) {
    throw invalidRequest(
      `messages: the tool message for '${orphan.toolCallId}' answers no tool_calls of the assistant message before it`,
      'messages',
    );
  }
  const last = context.pop();
  if (last === undefined || (last.role !== 'user' && last.role !== 'tool')) {
    throw invalidRequest('messages: the last message must have role "user" or "tool"', 'messages');
  }
  return { system: systemParts.length === 0 ? undefined : systemParts.join('\n\n'), context, last };
}

type RequestMessage = ChatCompletionRequest['messages'][number];

function toChatMessage(entry: RequestMessage, index: number): ChatMessage {
  switch (entry.role) {
    case 'tool':
      if (entry.tool_call_id === undefined) {
        throw invalidRequest(`messages[${index}].tool_call_id: required for a tool message`, `messages[${index}].tool_call_id`);
      }
      return { role: 'tool', content: textOf(entry.content, index), toolCallId: entry.tool_call_id };
    case 'assistant': {
      const message: ChatMessage = { role: 'assistant', content: textOf(entry.content, index) };
      if (entry.tool_calls != null && entry.tool_calls.length > 0) {
        message.toolCalls = entry.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
      }
      return message;
    }
    default: {
      const parts = partsOf(entry.content, index);
      const content = textOf(entry.content, index);
      return parts === undefined ? { role: 'user', content } : { role: 'user', content, parts };
    }
  }
}

/** A message's text: the string, or its text parts joined. */
function textOf(content: RequestMessage['content'], index: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  content.forEach((part, partIndex) => {
    if (part.type === 'text' && part.text !== undefined) text += part.text;
    else if (part.type !== 'image_url') {
      throw invalidRequest(
        `messages[${index}].content[${partIndex}]: '${part.type}' parts are not supported (text and image_url are)`,
        `messages[${index}].content`,
      );
    }
  });
  return text;
}

/** A user message's parts when it holds images; undefined for text only. */
function partsOf(content: RequestMessage['content'], index: number): ContentPart[] | undefined {
  if (!Array.isArray(content) || !content.some((part) => part.type === 'image_url')) return undefined;
  return content.map((part, partIndex): ContentPart => {
    if (part.type === 'text') return { type: 'text', text: part.text ?? '' };
    const url = part.image_url?.url;
    if (url === undefined || !/^(https?:\/\/|data:image\/[a-z+.-]+;base64,)/i.test(url)) {
      throw invalidRequest(
        `messages[${index}].content[${partIndex}].image_url.url: must be an http(s) URL or a data:image/…;base64 URL`,
        `messages[${index}].content`,
      );
    }
    return { type: 'image', url };
  });
}
