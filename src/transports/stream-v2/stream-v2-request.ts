import { z, type ZodError } from 'zod';
import { invalidRequest, type AppError } from '../../core/errors.js';

/**
 * What seed 003 clients send. `null` counts as absent: the seed's React and
 * Vue examples send `token: localStorage.getItem('token')`, which is null for
 * a visitor who never signed in.
 */
const sessionId = z.string().min(1).max(200).nullish();

/** The body of POST /api/v2/ai/chat/stream; the token travels in the Authorization header. */
export const streamChatBodySchema = z.object({
  message: z.string().min(1),
  sessionId,
});

/** The payload of `ai:chat`. */
export const chatPayloadSchema = z.object({
  message: z.string().min(1),
  sessionId,
  token: z.string().nullish(),
});

export type ChatPayload = z.infer<typeof chatPayloadSchema>;

/** The first problem of a payload as an invalid_request naming its field, e.g. "message: Invalid input: expected string, received undefined". */
export function payloadError(error: ZodError): AppError {
  const issue = error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? 'payload' : issue.path.join('.');
  return invalidRequest(`${field}: ${issue?.message ?? 'is invalid'}`, field);
}
