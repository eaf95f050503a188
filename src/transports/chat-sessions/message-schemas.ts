import { z } from 'zod';

/** The longest message a client may send, in characters. */
export const maxContentLength = 32_000;

/** Seed 002's `ai_chat_messages` row, in the seed's snake_case, with the reply's status and model. */
export const messageSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  user_id: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  /** Tokens of the content: the prompt tokenizer's count for user messages, completion tokens for replies. */
  tokens: z.number().int(),
  /** From receiving the request to storing the reply; null for user messages. */
  latency_ms: z.number().int().nullable(),
  created_at: z.string(),
  /** in_progress: a reply still being generated, its text as of its last checkpoint (resume its stream for the rest). */
  status: z.enum(['complete', 'interrupted', 'failed', 'in_progress']),
  model: z.string().nullable(),
});

export type MessageResponse = z.infer<typeof messageSchema>;

/** The answer to POST /api/v1/chat/messages: the stored reply and the id of the stored user message. */
export const sentMessageSchema = messageSchema.extend({ user_message_id: z.string() });

export type SentMessageResponse = z.infer<typeof sentMessageSchema>;

export const sendMessageBodySchema = z.object({
  session_id: z.string().min(1).max(100),
  content: z
    .string()
    .min(1)
    .max(maxContentLength, { error: `content must be at most ${maxContentLength} characters` })
    .refine((content) => content.trim() !== '', { error: 'content must not be blank' }),
});

export const sendMessageQuerySchema = z.object({
  /** `true` streams the reply as Server-Sent Events; so does `Accept: text/event-stream` without it. */
  stream: z.enum(['true', 'false']).optional(),
});

/** What stands for the session's oldest messages once they no longer fit the model's context window. */
export const summarySchema = z.object({
  content: z.string(),
  /** The summary covers this message and every one before it. */
  covers_through_message_id: z.string(),
  created_at: z.string(),
});

export type SummaryResponse = z.infer<typeof summarySchema>;

export const messageListSchema = z.object({
  messages: z.array(messageSchema),
  summary: summarySchema.nullable(),
  total: z.number().int(),
  page: z.number().int(),
  limit: z.number().int(),
  total_pages: z.number().int(),
});
