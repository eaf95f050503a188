/**
 * The admin API's part of the Kysely chat store: users with their usage,
 * their access settings (0010), the audit log and providers' reply
 * statistics. Nothing here is on a turn's path.
 */
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type {
  AuditEntry,
  NewAuditEntry,
  Page,
  PageResult,
  ProviderTurnStats,
  UserAccess,
  UserAccessChanges,
  UserSummary,
} from './chat-store.js';
import type { AuditLogTable, ChatDatabase, UsersTable } from './database-schema.js';
import type { StoreDatabase } from './store-database.js';
import type { Selectable } from 'kysely';

type AccessRow = Pick<Selectable<UsersTable>, 'id' | 'disabled' | 'token_budget_daily' | 'token_budget_lifetime' | 'rate_limit_per_minute'>;

const accessColumns = [
  'users.id',
  'users.disabled',
  'users.token_budget_daily',
  'users.token_budget_lifetime',
  'users.rate_limit_per_minute',
] as const;

/** Guests (src/core/identity.ts anonymousIdentity) come and go by the thousand: the admin lists people. */
const guestPattern = 'anonymous:%';

export class AdminQueries {
  constructor(
    private readonly db: ChatDatabase,
    private readonly database: StoreDatabase,
  ) {}

  async listUsers(page: Page): Promise<PageResult<UserSummary>> {
    const today = new Date().toISOString().slice(0, 10);
    const [rows, total] = await Promise.all([
      this.db
        .selectFrom('users')
        .leftJoin('accounts', 'accounts.user_id', 'users.id')
        .leftJoin('usage_days', (join) => join.onRef('usage_days.user_id', '=', 'users.id').on('usage_days.day', '=', today))
        .select([
          ...accessColumns,
          'users.created_at',
          'users.last_used_at',
          'users.total_tokens',
          'accounts.email',
          'accounts.role',
          'usage_days.tokens as today_tokens',
        ])
        .select((expression) =>
          expression
            .selectFrom('conversations')
            .whereRef('conversations.user_id', '=', 'users.id')
            .select((count) => count.fn.countAll<number | string>().as('count'))
            .as('conversations_count'),
        )
        .where('users.id', 'not like', guestPattern)
        .orderBy('users.created_at')
        .orderBy('users.id')
        .limit(page.limit)
        .offset(Math.max(page.page - 1, 0) * page.limit)
        .execute(),
      this.db
        .selectFrom('users')
        .where('id', 'not like', guestPattern)
        .select((expression) => expression.fn.countAll<number | string>().as('count'))
        .executeTakeFirstOrThrow(),
    ]);
    return {
      total: Number(total.count),
      items: rows.map((row) => ({
        userId: row.id,
        email: row.email,
        accountRole: row.role,
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at,
        todayTokens: Number(row.today_tokens ?? 0),
        totalTokens: Number(row.total_tokens),
        conversationsCount: Number(row.conversations_count ?? 0),
        access: toUserAccess(row),
      })),
    };
  }

  async listUserAccess(): Promise<UserAccess[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(accessColumns)
      .where((expression) =>
        expression.or([
          expression('disabled', '=', 1),
          expression('token_budget_daily', 'is not', null),
          expression('token_budget_lifetime', 'is not', null),
          expression('rate_limit_per_minute', 'is not', null),
        ]),
      )
      .execute();
    return rows.map(toUserAccess);
  }

  async getUserAccess(userId: string): Promise<UserAccess | undefined> {
    const row = await this.db.selectFrom('users').select(accessColumns).where('id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : toUserAccess(row);
  }

  updateUserAccess(
    userId: string,
    changes: UserAccessChanges,
    audit: Omit<NewAuditEntry, 'targetUserId'>,
  ): Promise<{ before: UserAccess; after: UserAccess } | undefined> {
    return this.database.write(async (writeAtomically) => {
      const before = await this.getUserAccess(userId);
      if (before === undefined) return undefined;
      const after: UserAccess = { ...before, ...definedOnly(changes) };
      const update = this.db
        .updateTable('users')
        .set({
          disabled: after.disabled ? 1 : 0,
          token_budget_daily: after.tokenBudgetDaily,
          token_budget_lifetime: after.tokenBudgetLifetime,
          rate_limit_per_minute: after.rateLimitPerMinute,
        })
        .where('id', '=', userId);
      const entry = auditRow({ ...audit, targetUserId: userId, details: { ...audit.details, before, after } });
      await writeAtomically([update, this.db.insertInto('audit_log').values(entry)]);
      return { before, after };
    });
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = auditRow(entry);
    await this.database.write((writeAtomically) => writeAtomically([this.db.insertInto('audit_log').values(row)]));
    return toAuditEntry(row);
  }

  async listAudit(page: Page): Promise<PageResult<AuditEntry>> {
    const [rows, total] = await Promise.all([
      this.db
        .selectFrom('audit_log')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(Math.max(page.page - 1, 0) * page.limit)
        .execute(),
      this.db
        .selectFrom('audit_log')
        .select((expression) => expression.fn.countAll<number | string>().as('count'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toAuditEntry), total: Number(total.count) };
  }

  /**
   * Reads the window through the messages' primary key: ids are UUIDv7, so
   * the id of `since` bounds them, and no index is added to the table every
   * turn writes. Percentiles are nearest-rank, picked with window functions
   * that both dialects have (SQLite has no percentile function): two rows per
   * provider leave the database, however many replies the hour had.
   */
  async providerTurnStats(since: Date): Promise<ProviderTurnStats[]> {
    const fromId = lowestUuidv7At(since);
    const fromTime = since.toISOString();
    const [counts, percentiles] = await Promise.all([
      sql<{ provider: string; turns: number | string; failed: number | string; interrupted: number | string }>`
        select provider, count(*) as turns,
          sum(case when status = 'failed' then 1 else 0 end) as failed,
          sum(case when status = 'interrupted' then 1 else 0 end) as interrupted
        from messages
        where id >= ${fromId} and created_at >= ${fromTime} and role = 'assistant'
          and status <> 'in_progress' and provider is not null
        group by provider`.execute(this.db),
      sql<{ provider: string; ttft: number | string; position: number | string; total: number | string }>`
        select provider, ttft, position, total from (
          select provider, time_to_first_token_ms as ttft,
            row_number() over (partition by provider order by time_to_first_token_ms) as position,
            count(*) over (partition by provider) as total
          from messages
          where id >= ${fromId} and created_at >= ${fromTime} and role = 'assistant'
            and status <> 'in_progress' and provider is not null and time_to_first_token_ms is not null
        ) ranked
        where position = (50 * total + 99) / 100 or position = (99 * total + 99) / 100`.execute(this.db),
    ]);
    return counts.rows
      .map((row) => {
        const ranked = percentiles.rows.filter((candidate) => candidate.provider === row.provider);
        const at = (percent: number) => {
          const match = ranked.find(
            (candidate) => Number(candidate.position) === Math.floor((percent * Number(candidate.total) + 99) / 100),
          );
          return match === undefined ? null : Number(match.ttft);
        };
        return {
          provider: row.provider,
          turns: Number(row.turns),
          failed: Number(row.failed ?? 0),
          interrupted: Number(row.interrupted ?? 0),
          timeToFirstTokenP50Ms: at(50),
          timeToFirstTokenP99Ms: at(99),
        };
      })
      .sort((a, b) => a.provider.localeCompare(b.provider));
  }
}

function toUserAccess(row: AccessRow): UserAccess {
  return {
    userId: row.id,
    disabled: Number(row.disabled) === 1,
    tokenBudgetDaily: nullableNumber(row.token_budget_daily),
    tokenBudgetLifetime: nullableNumber(row.token_budget_lifetime),
    rateLimitPerMinute: nullableNumber(row.rate_limit_per_minute),
  };
}

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function auditRow(entry: NewAuditEntry): AuditLogTable {
  return {
    id: uuidv7(),
    actor_user_id: entry.actorUserId,
    action: entry.action,
    target_user_id: entry.targetUserId,
    details: JSON.stringify(entry.details),
    created_at: new Date().toISOString(),
  };
}

function toAuditEntry(row: AuditLogTable): AuditEntry {
  return {
    id: row.id,
    actorUserId: row.actor_user_id,
    action: row.action,
    targetUserId: row.target_user_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

/** The changes without the fields left out (an explicit undefined must not erase a value). */
function definedOnly(changes: UserAccessChanges): UserAccessChanges {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as UserAccessChanges;
}

/** The smallest UUIDv7 of this millisecond: its first 48 bits are the Unix time in ms. */
export function lowestUuidv7At(moment: Date): string {
  const hex = Math.max(0, moment.getTime()).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
