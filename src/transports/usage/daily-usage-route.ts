import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServerDependencies } from '../../http/server-dependencies.js';

const dayMs = 86_400_000;

const responseSchema = z.object({
  /** Every day of the range, oldest first, 0 where nothing was used. */
  days: z.array(z.object({ day: z.string(), tokens: z.number() })),
  lifetimeTokens: z.number(),
  todayTokens: z.number(),
  /** null when the budget is off (TOKEN_BUDGET_LIFETIME / TOKEN_BUDGET_DAILY = 0). */
  budgets: z.object({
    lifetime: z.number().nullable(),
    daily: z.number().nullable(),
    lifetimeLeft: z.number().nullable(),
    todayLeft: z.number().nullable(),
  }),
});

/**
 * GET /api/v1/usage/daily?days=30: the caller's tokens (prompt and
 * completion, every API, embeddings included) per UTC day, and what is left
 * of their budgets, for a usage chart.
 */
export function dailyUsageRoute(
  app: FastifyInstance,
  { authenticator, config, store }: Pick<ServerDependencies, 'authenticator' | 'config' | 'store'>,
): void {
  const schema = {
    summary: "The caller's tokens per day and budgets left",
    tags: ['usage'],
    querystring: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
    response: { 200: responseSchema },
  };
  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/usage/daily', { schema }, async (request) => {
    const { userId } = await authenticator.requireHeader(request.headers.authorization);
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    const range = Array.from({ length: request.query.days }, (_, index) =>
      new Date(today - (request.query.days - 1 - index) * dayMs).toISOString().slice(0, 10),
    );
    const [used, totals] = await Promise.all([store.listDailyUsage(userId, range[0]!), store.getTokenUsage(userId)]);
    const byDay = new Map(used.map((entry) => [entry.day, entry.tokens]));
    const { lifetimeTokenBudget, dailyTokenBudget } = config.limits;
    return {
      days: range.map((day) => ({ day, tokens: byDay.get(day) ?? 0 })),
      lifetimeTokens: totals.lifetimeTokens,
      todayTokens: totals.todayTokens,
      budgets: {
        lifetime: lifetimeTokenBudget > 0 ? lifetimeTokenBudget : null,
        daily: dailyTokenBudget > 0 ? dailyTokenBudget : null,
        lifetimeLeft: lifetimeTokenBudget > 0 ? Math.max(0, lifetimeTokenBudget - totals.lifetimeTokens) : null,
        todayLeft: dailyTokenBudget > 0 ? Math.max(0, dailyTokenBudget - totals.todayTokens) : null,
      },
    };
  });
}
