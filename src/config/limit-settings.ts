import { z } from 'zod';

/**
 * Limits that keep one user from starving the others. Budgets and the
 * concurrency limit do not apply to the local user of single-user mode.
 */
const whole = (maximum: number) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(maximum).optional());

export const limitEnvironment = {
  MAX_MESSAGE_CHARS: whole(10_000_000),
  MAX_CONCURRENT_TURNS_PER_USER: whole(10_000),
  TOKEN_BUDGET_LIFETIME: whole(Number.MAX_SAFE_INTEGER),
  TOKEN_BUDGET_DAILY: whole(Number.MAX_SAFE_INTEGER),
  TOKEN_BUDGET_RESERVE: whole(Number.MAX_SAFE_INTEGER),
  MODERATION: z.enum(['true', 'false', '']).optional(),
  MODERATION_MODEL: z.string().optional(),
};

type LimitEnvironment = z.infer<z.ZodObject<typeof limitEnvironment>>;

export interface TurnLimits {
  maxMessageChars: number;
  /** 0: no limit. */
  maxConcurrentTurnsPerUser: number;
  /** Tokens a user may ever use; 0: no budget. */
  lifetimeTokenBudget: number;
  /** Tokens a user may use per UTC day; 0: no budget. */
  dailyTokenBudget: number;
  /** What a turn that sets no max tokens reserves from a budget for its reply, until its real usage is known. */
  budgetReserveTokens: number;
  /** The moderation model to check each message with, or undefined when moderation is off. */
  moderationModel: string | undefined;
}

export function turnLimits(env: LimitEnvironment): TurnLimits {
  return {
    maxMessageChars: env.MAX_MESSAGE_CHARS || 32_000,
    maxConcurrentTurnsPerUser: env.MAX_CONCURRENT_TURNS_PER_USER ?? 4,
    // Seed 001's example: block users past 1,000,000 tokens.
    lifetimeTokenBudget: env.TOKEN_BUDGET_LIFETIME ?? 1_000_000,
    dailyTokenBudget: env.TOKEN_BUDGET_DAILY ?? 0,
    budgetReserveTokens: env.TOKEN_BUDGET_RESERVE ?? 1024,
    moderationModel: env.MODERATION === 'true' ? (env.MODERATION_MODEL ?? 'omni-moderation-latest') : undefined,
  };
}
