import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { TurnLimits } from '../../config/limit-settings.js';
import { invalidRequest, notFound } from '../../core/errors.js';
import { pageMeta, paginationQuerySchema } from '../../http/pagination.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { ProviderHealth } from '../../providers/provider-registry.js';
import type { ProviderTurnStats, UserSummary } from '../../store/chat-store.js';
import { requireAdmin } from './admin-identity.js';
import { auditResponse, providersResponse, userChangeResponse, userChangesBody, userParams, usersResponse } from './admin-schemas.js';

const tags = ['admin'];
const hourMs = 3_600_000;

/**
 * `/api/v1/admin`: users with their usage and budgets, an admin's per-user
 * settings (disable, budget and rate-limit overrides), provider health and
 * the audit log. Every route needs an admin (see requireAdmin); every
 * change is written to the audit log in the same write as the change, and
 * reaches every instance's in-memory list at once (UserAccessSync).
 */
export function adminRoutes(
  app: FastifyInstance,
  {
    authenticator,
    store,
    config,
    providers,
    userAccess,
  }: Pick<ServerDependencies, 'authenticator' | 'store' | 'config' | 'providers' | 'userAccess'>,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/api/v1/admin/users',
    {
      schema: {
        summary: 'Users with their usage, budgets and settings',
        tags,
        querystring: paginationQuerySchema,
        response: { 200: usersResponse },
      },
    },
    async (request) => {
      await requireAdmin(authenticator, request.headers.authorization);
      const { items, total } = await store.listUsers(request.query);
      return { data: items.map((user) => toUserBody(user, config.limits)), meta: pageMeta(request.query, total) };
    },
  );

  routes.patch(
    '/api/v1/admin/users/:userId',
    {
      schema: {
        summary: "Disable or enable a user, or set their budgets and rate limit (null: the server's setting)",
        tags,
        params: userParams,
        body: userChangesBody,
        response: { 200: userChangeResponse },
      },
    },
    async (request) => {
      const admin = await requireAdmin(authenticator, request.headers.authorization);
      const { userId } = request.params;
      if (request.body.disabled === true && userId === admin.userId) {
        throw invalidRequest('An admin cannot disable their own account', 'disabled');
      }
      const changed = await store.updateUserAccess(userId, request.body, {
        actorUserId: admin.userId,
        action: 'user.update',
        details: { changes: request.body },
      });
      if (changed === undefined) throw notFound('User');
      await userAccess.publish(changed.after);
      return changed;
    },
  );

  routes.get(
    '/api/v1/admin/providers',
    {
      schema: {
        summary: "Providers' breakers, failures and time to first token over the last hour",
        tags,
        response: { 200: providersResponse },
      },
    },
    async (request) => {
      await requireAdmin(authenticator, request.headers.authorization);
      const since = new Date(Date.now() - hourMs);
      const stats = await store.providerTurnStats(since);
      return { since: since.toISOString(), providers: providerReports(providers.health(), stats) };
    },
  );

  routes.get(
    '/api/v1/admin/audit',
    { schema: { summary: 'Admin actions, newest first', tags, querystring: paginationQuerySchema, response: { 200: auditResponse } } },
    async (request) => {
      await requireAdmin(authenticator, request.headers.authorization);
      const { items, total } = await store.listAudit(request.query);
      return { data: items, meta: pageMeta(request.query, total) };
    },
  );
}

function toUserBody(user: UserSummary, limits: TurnLimits) {
  const { access } = user;
  const daily = access.tokenBudgetDaily ?? limits.dailyTokenBudget;
  const lifetime = access.tokenBudgetLifetime ?? limits.lifetimeTokenBudget;
  const budget = (limit: number, used: number) => (limit === 0 ? { limit: null, left: null } : { limit, left: Math.max(0, limit - used) });
  return {
    userId: user.userId,
    email: user.email,
    accountRole: user.accountRole,
    createdAt: user.createdAt,
    lastUsedAt: user.lastUsedAt,
    usage: { todayTokens: user.todayTokens, totalTokens: user.totalTokens },
    conversationsCount: user.conversationsCount,
    disabled: access.disabled,
    overrides: {
      tokenBudgetDaily: access.tokenBudgetDaily,
      tokenBudgetLifetime: access.tokenBudgetLifetime,
      rateLimitPerMinute: access.rateLimitPerMinute,
    },
    budgets: { daily: budget(daily, user.todayTokens), lifetime: budget(lifetime, user.totalTokens) },
  };
}

/** This instance's configured providers and every provider the last hour's replies name, one row each. */
function providerReports(health: ProviderHealth[], stats: ProviderTurnStats[]) {
  const names = [...new Set([...health.map((entry) => entry.provider as string), ...stats.map((entry) => entry.provider)])].sort();
  return names.map((provider) => {
    const own = health.find((entry) => entry.provider === provider);
    const stored = stats.find((entry) => entry.provider === provider);
    return {
      provider,
      configured: own !== undefined,
      breaker: own?.breaker ?? null,
      retries: own?.counts.retries ?? 0,
      failures: Object.fromEntries(own?.counts.failures ?? []),
      lastHour: {
        turns: stored?.turns ?? 0,
        failed: stored?.failed ?? 0,
        interrupted: stored?.interrupted ?? 0,
        timeToFirstTokenP50Ms: stored?.timeToFirstTokenP50Ms ?? null,
        timeToFirstTokenP99Ms: stored?.timeToFirstTokenP99Ms ?? null,
      },
    };
  });
}
