import { z } from 'zod';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage } from '../../providers/chat-provider.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

/** The fields Parley uses; other OpenAI parameters are accepted and ignored. */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(message).min(1).max(10_000),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  n: z.literal(1).nullish(),
});

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
