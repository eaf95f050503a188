import { z } from 'zod';

/** Seed 002's `ai_chat_sessions` row, in the seed's snake_case. */
export const sessionSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  title: z.string().nullable(),
  mode: z.string().nullable(),
  context_tags: z.array(z.string()),
  system_prompt: z.string().nullable(),
  status: z.string(),
  message_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  last_message_at: z.string().nullable(),
});

export type SessionResponse = z.infer<typeof sessionSchema>;

/** The body of POST /api/v1/chat/sessions; every field may be left out. */
export const createSessionBodySchema = z
  .object({
    title: z.string().min(1).max(200).nullish(),
    mode: z.string().min(1).max(50).nullish(),
    context_tags: z.array(z.string().min(1).max(100)).max(50).nullish(),
    /** Replaces the surface's system prompt (CHAT_SYSTEM_PROMPT) for this session. */
    system_prompt: z.string().min(1).max(32_000).nullish(),
  })
  // A client may send no body at all (Fastify then hands over null) and take every default.
  .nullish();

/** The body of PATCH /api/v1/chat/sessions/{session_id}. */
export const renameSessionBodySchema = z.object({
  title: z
    .string()
    .min(1)
    .max(200)
    .refine((title) => title.trim() !== '', { error: 'title must not be blank' }),
});

export const sessionListSchema = z.object({
  sessions: z.array(sessionSchema),
  total: z.number().int(),
  page: z.number().int(),
  limit: z.number().int(),
  total_pages: z.number().int(),
});

/** `{session_id}` in a path; checked with resourceId so a malformed id answers 404. */
export const sessionPathSchema = z.object({ session_id: z.string() });
