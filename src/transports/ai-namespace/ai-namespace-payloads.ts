import { z } from 'zod';
import { invalidRequest, type AppError } from '../../core/errors.js';

/**
 * What clients send on the /ai namespace (docs/protocols/ai-namespace.md).
 * Every message names the field it is about, so the error event a bad
 * payload gets tells the client what to fix. Optional text fields treat
 * null and '' as "not given": UI state often starts as one of them.
 */

const maxIdLength = 200;

function requiredText(field: string) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .refine((value) => value.trim() !== '', { error: `${field} must not be empty` });
}

function optionalText(field: string) {
  return z
    .string({ error: `${field} must be a string` })
    .max(maxIdLength, { error: `${field} must be at most ${maxIdLength} characters` })
    .nullish()
    .transform((value) => (value === '' || value === null ? undefined : value));
}

function optionalNumber(schema: z.ZodNumber) {
  return schema.nullish().transform((value) => value ?? undefined);
}

const payloadObject = <Shape extends z.ZodRawShape>(event: string, shape: Shape) =>
  z.object(shape, { error: `The ${event} payload must be an object` });

/** Seed 000 uses uuid strings; numbers are accepted too and echoed back as sent. */
const requestIdRule = `requestId must be a non-empty string of at most ${maxIdLength} characters, or a number`;

export const requestIdSchema = z.union(
  [z.string().min(1, { error: requestIdRule }).max(maxIdLength, { error: requestIdRule }), z.number()],
  { error: (issue) => (issue.input === undefined ? 'requestId is required' : requestIdRule) },
);

export type RequestId = z.output<typeof requestIdSchema>;

export const aiRequestSchema = payloadObject('ai_request', {
  requestId: requestIdSchema,
  model: optionalText('model'),
  prompt: requiredText('prompt'),
  stream: z
    .boolean({ error: 'stream must be true or false' })
    .nullish()
    .transform((value) => value === true),
});

export type AiRequestPayload = z.input<typeof aiRequestSchema>;
export type AiRequest = z.output<typeof aiRequestSchema>;

/** clear_history takes no payload; an object (of any fields) is tolerated and ignored. */
export const clearHistorySchema = z.looseObject({}, { error: 'The clear_history payload must be an object or nothing' }).nullish();

export type ClearHistoryPayload = z.input<typeof clearHistorySchema>;

export const chatStartSchema = payloadObject('chat:start', {
  userId: z
    .union([z.string(), z.number()], { error: 'userId must be a string' })
    .nullish()
    .transform((value) => (value === null || value === undefined || value === '' ? undefined : String(value))),
  message: requiredText('message'),
  conversationId: optionalText('conversationId'),
  model: optionalText('model'),
  maxTokens: optionalNumber(
    z.int({ error: 'maxTokens must be a positive integer' }).positive({ error: 'maxTokens must be a positive integer' }),
  ),
  temperature: optionalNumber(
    z
      .number({ error: 'temperature must be a number from 0 to 2' })
      .min(0, { error: 'temperature must be a number from 0 to 2' })
      .max(2, { error: 'temperature must be a number from 0 to 2' }),
  ),
});

export type ChatStartPayload = z.input<typeof chatStartSchema>;
export type ChatStartRequest = z.output<typeof chatStartSchema>;

/** The parsed payload, or an invalid_request error naming the first bad field ('payload' for the payload itself). */
export function parsePayload<Schema extends z.ZodType>(schema: Schema, payload: unknown): z.output<Schema> | AppError {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length === 0 ? 'payload' : issue.path.map(String).join('.');
  return invalidRequest(issue.message, field);
}

/** The requestId of a payload that failed validation, when that much of it is valid, so the error can still be matched. */
export function requestIdOf(payload: unknown): RequestId | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const parsed = requestIdSchema.safeParse((payload as { requestId?: unknown }).requestId);
  return parsed.success ? parsed.data : null;
}
