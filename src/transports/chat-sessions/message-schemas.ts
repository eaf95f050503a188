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
  /** The message it answers or follows; null for the first. */
  parent_id: z.string().nullable(),
  /** Its place among its versions (the messages with its parent and role), oldest first, from 1. */
  version: z.number().int().min(1),
  versions: z.number().int().min(1),
  /** Its versions' ids, oldest first, itself included: what a `< 2/3 >` switcher steps through. */
  sibling_ids: z.array(z.string()),
  /** Replies only (null for user messages). */
  prompt_tokens: z.number().int().nullable(),
  time_to_first_token_ms: z.number().int().nullable(),
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
  /** A model GET /v1/models lists; the surface's model (CLAUDE_MODEL) without it. */
  model: modelNameSchema(),
  /** A user message of this session: the new message becomes a new version of it, and its branch the active one. */
  edit_of: z.string().min(1).max(100).optional(),
});

function modelNameSchema() {
  return z.string().min(1).max(200).optional();
}

/** The body of POST /api/v1/chat/replies/{message_id}/regenerate; it may be left out. */
export const regenerateBodySchema = z.object({ model: modelNameSchema() }).nullish();

/** The body of PUT /api/v1/chat/sessions/{session_id}/branch. */
export const activateBranchBodySchema = z.object({
  /** A message of the session: its branch becomes active, down to the newest leaf below it. */
  message_id: z.string().min(1).max(100),
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
