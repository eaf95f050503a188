import { z } from 'zod';

/**
 * Response bodies exactly as seed 001 documents them; the OpenAPI document
 * is generated from these, and the serializer checks every answer against them.
 */

const timestamp = z.string().describe('ISO 8601, UTC');

export const chatResponseSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  content: z.string(),
  model: z.string(),
  tokens: z.int().describe("The reply's prompt plus completion tokens"),
  createdAt: timestamp,
});

export type ChatResponse = z.output<typeof chatResponseSchema>;

export const embeddingsResponseSchema = z.object({
  embedding: z.array(z.number()),
  model: z.string(),
  tokens: z.int(),
});

export type EmbeddingsResponse = z.output<typeof embeddingsResponseSchema>;

export const conversationResponseSchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  userId: z.string(),
  messageCount: z.int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const conversationListResponseSchema = z.object({
  data: z.array(conversationResponseSchema),
  meta: z.object({ total: z.int(), page: z.int(), limit: z.int(), totalPages: z.int() }),
});

export const messageResponseSchema = z.object({
  id: z.string(),
  role: z.enum(['USER', 'ASSISTANT', 'SYSTEM']),
  content: z.string(),
  tokens: z.int().nullable().describe("null for USER messages; a reply's prompt plus completion tokens"),
  model: z.string().nullable(),
  status: z
    .enum(['complete', 'interrupted', 'failed', 'in_progress'])
    .describe('in_progress: a reply still being generated, its text as of its last checkpoint; chat:start turns resume with turn:resume'),
  createdAt: timestamp,
});

export const conversationDetailResponseSchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  userId: z.string(),
  messages: z.array(messageResponseSchema),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const usageResponseSchema = z.object({
  totalTokens: z.int(),
  conversationsCount: z.int(),
  messagesCount: z.int(),
  lastUsed: timestamp.nullable(),
});

export const jobQueuedResponseSchema = z.object({
  jobId: z.string(),
  status: z.literal('queued'),
});

export const jobResponseSchema = z.object({
  id: z.string(),
  kind: z.enum(['generate-completion', 'generate-embeddings']),
  state: z.enum(['waiting', 'active', 'completed', 'failed']),
  progress: z.int().min(0).max(100),
  result: z.union([chatResponseSchema, embeddingsResponseSchema]).nullable(),
  failedReason: z.string().nullable(),
  createdAt: timestamp,
  finishedAt: timestamp.nullable(),
});

export const jobListResponseSchema = z.object({ data: z.array(jobResponseSchema) });
