import { getJson } from './http';

/** The admin API (src/transports/admin/admin-schemas.ts, docs/operations.md "Admin API"): read only, as the admin page uses it. */

export interface PageMeta {
  total: number;
  page: number;
  limit: number;
  totalPages: number;
}

/** A budget in force: its limit (null: none) and what is left of it. */
export interface BudgetLeft {
  limit: number | null;
  left: number | null;
}

export interface AdminUser {
  userId: string;
  email: string | null;
  accountRole: 'admin' | 'member' | null;
  createdAt: string;
  lastUsedAt: string | null;
  usage: { todayTokens: number; totalTokens: number };
  conversationsCount: number;
  disabled: boolean;
  budgets: { daily: BudgetLeft; lifetime: BudgetLeft };
}

export interface ProviderReport {
  provider: string;
  configured: boolean;
  breaker: string | null;
  retries: number;
  failures: Record<string, number>;
  lastHour: {
    turns: number;
    failed: number;
    interrupted: number;
    timeToFirstTokenP50Ms: number | null;
    timeToFirstTokenP99Ms: number | null;
  };
}

export interface AuditEntry {
  id: string;
  actorUserId: string;
  action: string;
  targetUserId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

/** The API's largest page (src/http/pagination.ts). */
export const adminPageLimit = 100;

export function listAdminUsers(limit = adminPageLimit): Promise<{ data: AdminUser[]; meta: PageMeta }> {
  return getJson(`/api/v1/admin/users?limit=${limit}`);
}

export function readProviderHealth(): Promise<{ since: string; providers: ProviderReport[] }> {
  return getJson('/api/v1/admin/providers');
}

export function listAudit(limit = adminPageLimit): Promise<{ data: AuditEntry[]; meta: PageMeta }> {
  return getJson(`/api/v1/admin/audit?limit=${limit}`);
}
