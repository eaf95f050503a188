import { z } from 'zod';

/**
 * `turn:resume`'s payload, on every Socket.IO surface that streams turns:
 * the turn (the reply's messageId) and the `seq` of the last chunk the
 * client has (0 or absent: from the start).
 */
export const turnResumeSchema = z.object(
  {
    turnId: z
      .string({ error: 'turnId must be a string: the messageId of the reply to resume' })
      .min(1, { error: 'turnId must not be empty' })
      .max(200, { error: 'turnId must be at most 200 characters' }),
    after: z
      .int({ error: 'after must be a whole number: the seq of the last chunk received' })
      .min(0, { error: 'after must not be negative' })
      .nullish()
      .transform((value) => value ?? 0),
  },
  { error: 'The turn:resume payload must be an object' },
);

export type TurnResumePayload = z.input<typeof turnResumeSchema>;
export type TurnResume = z.output<typeof turnResumeSchema>;
