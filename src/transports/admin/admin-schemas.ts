import { z } from 'zod';

/** JWT subjects are any text: a user id is only bounded in length. */
export const userParams = z.object({ userId: z.string().min(1).max(300) });

const budget = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();

export const userChangesBody = z
  .strictObject({
    disabled: z.boolean().optional(),
    /** Tokens a UTC day; 0: no limit; null: the server's TOKEN_BUDGET_DAILY. */
    tokenBudgetDaily: budget.optional(),
    /** Tokens in all; 0: no limit; null: the server's TOKEN_BUDGET_LIFETIME. */
    tokenBudgetLifetime: budget.optional(),
    /** Turns a minute; 0: no limit; null: the surface's rate limit. */
    rateLimitPerMinute: z.number().int().min(0).max(1_000_000).nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, {
    message: 'Send at least one of disabled, tokenBudgetDaily, tokenBudgetLifetime, rateLimitPerMinute',
  });

const accessSchema = z.object({
  userId: z.string(),
  disabled: z.boolean(),
  tokenBudgetDaily: z.number().nullable(),
  tokenBudgetLifetime: z.number().nullable(),
  rateLimitPerMinute: z.number().nullable(),
});

/** A budget in force: its limit (null: none) and what is left of it. */
const budgetSchema = z.object({ limit: z.number().nullable(), left: z.number().nullable() });

export const userSchema = z.object({
  userId: z.string(),
  email: z.string().nullable(),
  accountRole: z.enum(['admin', 'member']).nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  usage: z.object({ todayTokens: z.number(), totalTokens: z.number() }),
  conversationsCount: z.number(),
  disabled: z.boolean(),
  /** What an admin set; null fields follow the server's settings. */
  overrides: accessSchema.omit({ userId: true, disabled: true }),
  budgets: z.object({ daily: budgetSchema, lifetime: budgetSchema }),
});

export const pageMetaSchema = z.object({ total: z.number(), page: z.number(), limit: z.number(), totalPages: z.number() });

export const usersResponse = z.object({ data: z.array(userSchema), meta: pageMetaSchema });

export const userChangeResponse = z.object({ before: accessSchema, after: accessSchema });

export const providersResponse = z.object({
  since: z.string(),
  providers: z.array(
    z.object({
      provider: z.string(),
      /** Configured on this instance; false for one only the stored replies name. */
      configured: z.boolean(),
      /** This instance's breaker: closed, open, half_open, isolated, or none. */
      breaker: z.string().nullable(),
      /** Since this instance started. */
      retries: z.number(),
      failures: z.record(z.string(), z.number()),
      /** Every instance's replies over the last hour, from the store. */
      lastHour: z.object({
        turns: z.number(),
        failed: z.number(),
        interrupted: z.number(),
        timeToFirstTokenP50Ms: z.number().nullable(),
        timeToFirstTokenP99Ms: z.number().nullable(),
      }),
    }),
  ),
});

export const auditResponse = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      actorUserId: z.string(),
      action: z.string(),
      targetUserId: z.string().nullable(),
      details: z.record(z.string(), z.unknown()),
      createdAt: z.string(),
    }),
  ),
  meta: pageMetaSchema,
});
