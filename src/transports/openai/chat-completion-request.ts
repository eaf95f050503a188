import { z } from 'zod';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage, SamplingOptions } from '../../providers/chat-provider.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

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
  user: z.string().max(256).nullish(),
});

/**
 * OpenAI parameters Parley cannot honour yet. A client that sends one wants
 * its effect (a tool call, JSON output, log probabilities): it is refused,
 * naming the field, rather than dropped.
 */
const refusedFields: { field: string; used: (value: unknown) => boolean }[] = [
  { field: 'tools', used: (value) => Array.isArray(value) && value.length > 0 },
  { field: 'functions', used: (value) => Array.isArray(value) && value.length > 0 },
  { field: 'tool_choice', used: (value) => value !== undefined && value !== null && value !== 'none' },
  { field: 'function_call', used: (value) => value !== undefined && value !== null && value !== 'none' },
  { field: 'response_format', used: (value) => value !== undefined && value !== null && (value as { type?: unknown }).type !== 'text' },
  { field: 'logprobs', used: (value) => value === true },
  { field: 'top_logprobs', used: (value) => value !== undefined && value !== null },
  { field: 'logit_bias', used: (value) => typeof value === 'object' && value !== null && Object.keys(value).length > 0 },
  { field: 'audio', used: (value) => value !== undefined && value !== null },
  { field: 'prediction', used: (value) => value !== undefined && value !== null },
];

/** Throws invalid_request naming the first parameter Parley would otherwise have to drop. */
export function refuseUnsupported(body: Record<string, unknown>): void {
  for (const { field, used } of refusedFields) {
    if (used(body[field])) throw invalidRequest(`${field}: not supported by Parley yet`, field);
  }
}

/** The sampling settings a provider is asked for (its adapter refuses what it cannot do). */
export function samplingOf(body: ChatCompletionRequest): SamplingOptions | undefined {
  const sampling: SamplingOptions = {};
  if (body.stop != null) sampling.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.top_p != null) sampling.topP = body.top_p;
  if (body.seed != null) sampling.seed = body.seed;
  if (body.presence_penalty != null) sampling.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) sampling.frequencyPenalty = body.frequency_penalty;
  if (body.user != null) sampling.user = body.user;
  return Object.keys(sampling).length === 0 ? undefined : sampling;
}

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export interface ParsedConversation {
  system: string | undefined;
  /** Everything before the last message. */
  context: ChatMessage[];
  /** The last message, which must come from the user. */
  content: string;
}

/** Splits OpenAI messages into a system prompt, the prior context and the new user message. */
export function parseMessages(messages: ChatCompletionRequest['messages']): ParsedConversation {
  const systemParts: string[] = [];
  const context: ChatMessage[] = [];
  messages.forEach((entry, index) => {
    const text = textOf(entry.content, index);
    if (entry.role === 'system' || entry.role === 'developer') systemParts.push(text);
    else if (entry.role === 'user' || entry.role === 'assistant') context.push({ role: entry.role, content: text });
    else
      throw invalidRequest(
        `messages[${index}].role: '${entry.role}' messages are not supported (Parley does not run tools)`,
        `messages[${index}].role`,
      );
  });
  const last = context.pop();
  if (last === undefined || last.role !== 'user' || messages.at(-1)?.role !== 'user') {
    throw invalidRequest('messages: the last message must have role "user"', 'messages');
  }
  return { system: systemParts.length === 0 ? undefined : systemParts.join('\n\n'), context, content: last.content };
}

function textOf(content: ChatCompletionRequest['messages'][number]['content'], index: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type !== 'text' || part.text === undefined) {
        throw invalidRequest(`messages[${index}].content[${partIndex}]: only text parts are supported`, `messages[${index}].content`);
      }
      return part.text;
    })
    .join('');
}
