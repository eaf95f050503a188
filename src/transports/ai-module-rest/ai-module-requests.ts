import { z } from 'zod';

/**
 * Request bodies and path parameters of seed 001's REST API
 * (docs/protocols/ai-module-rest.md). Messages leave the field out: the
 * error handler prefixes the field's path ("body.maxTokens: must be …").
 * Optional fields treat null and '' as "not given", as the seed's
 * `conversationId: existingConversationId` often starts as null in a UI.
 */

const requiredText = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .refine((value) => value.trim() !== '', { error: 'must not be empty' });

const optionalText = (maxLength: number) =>
  z
    .string({ error: 'must be a string' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .nullish()
    .transform((value) => (value === '' || value === null ? undefined : value));

const maxTokens = z
  .int({ error: 'must be a positive integer' })
  .positive({ error: 'must be a positive integer' })
  .nullish()
  .transform((value) => value ?? undefined);

const temperature = z
  .number({ error: 'must be a number from 0 to 2' })
  .min(0, { error: 'must be a number from 0 to 2' })
  .max(2, { error: 'must be a number from 0 to 2' })
  .nullish()
  .transform((value) => value ?? undefined);

export const chatBodySchema = z.object({
  message: requiredText,
  /** Optional: a new conversation is created when it is left out. */
  conversationId: optionalText(100),
  model: optionalText(200),
  maxTokens,
  temperature,
});

export type ChatBody = z.output<typeof chatBodySchema>;

export const embeddingsBodySchema = z.object({
  text: requiredText,
  model: optionalText(200),
});

export type EmbeddingsBody = z.output<typeof embeddingsBodySchema>;

/** The body may be left out entirely: every field is optional. */
export const newConversationBodySchema = z
  .object({ title: optionalText(200) })
  .nullish()
  .transform((body) => ({ title: body?.title }));

/** Any string: a malformed id answers 404 through resourceId, like an unknown one. */
export const idParamsSchema = z.object({ id: z.string() });
