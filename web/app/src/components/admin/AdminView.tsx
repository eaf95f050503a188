import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import {
  listAdminUsers,
  listAudit,
  readProviderHealth,
  type AdminUser,
  type AuditEntry,
  type PageMeta,
  type ProviderReport,
} from '../../api/admin-api';
import { ApiError, errorText } from '../../api/http';
import { AdminAuditTable } from './AdminAuditTable';
import { AdminProvidersTable } from './AdminProvidersTable';
import { AdminUsersTable } from './AdminUsersTable';
import { count, timeText, userName } from './admin-format';
import { TodayUsageChart } from './TodayUsageChart';

interface AdminData {
  users: { data: AdminUser[]; meta: PageMeta };
  providers: { since: string; providers: ProviderReport[] };
  audit: { data: AuditEntry[]; meta: PageMeta };
}

type Load = { state: 'loading' } | { state: 'loaded'; data: AdminData } | { state: 'refused' } | { state: 'failed'; message: string };

/** A note when a list has more than the one page shown. */
function moreNote(meta: PageMeta, what: string) {
  return meta.total > meta.limit ? (
    <p class="muted">
      The first {count(meta.limit)} of {count(meta.total)} {what}.
    </p>
  ) : null;
}

/**
 * The admin page (#/admin): users and their usage, provider health and the
 * audit log, read from the admin API and nothing else; it changes nothing.
 * A non-admin (403) sees that the page is for admins.
 */
export function AdminView() {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const refresh = useCallback(() => {
    Promise.all([listAdminUsers(), readProviderHealth(), listAudit()])
      .then(([users, providers, audit]) => setLoad({ state: 'loaded', data: { users, providers, audit } }))
      .catch((failure: unknown) =>
        setLoad(
          failure instanceof ApiError && failure.status === 403 ? { state: 'refused' } : { state: 'failed', message: errorText(failure) },
        ),
      );
  }, []);
  useEffect(refresh, [refresh]);
  const names = useMemo(
    () => new Map(load.state === 'loaded' ? load.data.users.data.map((user) => [user.userId, userName(user)]) : []),
    [load],
  );

  return (
    <section class="admin" aria-labelledby="admin-title">
      <div class="admin-top">
        <h1 id="admin-title">Admin</h1>
        {load.state === 'loaded' && (
          <button type="button" class="secondary" onClick={refresh}>
            Refresh
          </button>
        )}
      </div>
      {load.state === 'loading' && <p class="muted">Loading…</p>}
      {load.state === 'refused' && (
        <p id="admin-refused" role="alert">
          This page is for admins only. Ask an admin of this server if you need it.
        </p>
      )}
      {load.state === 'failed' && <p role="alert">{load.message}</p>}
      {load.state === 'loaded' && (
        <>
          <section class="admin-section" aria-labelledby="admin-users-title">
            <h2 id="admin-users-title">Users</h2>
            <h3 id="admin-chart-title">Tokens today, heaviest users</h3>
            <TodayUsageChart users={load.data.users.data} />
            <AdminUsersTable users={load.data.users.data} />
            {moreNote(load.data.users.meta, 'users')}
          </section>
          <section class="admin-section" aria-labelledby="admin-providers-title">
            <h2 id="admin-providers-title">Providers</h2>
            <p class="muted">
              Breakers and errors as this server instance sees them; turns and time to first token from every instance since{' '}
              {timeText(load.data.providers.since)}.
            </p>
            <AdminProvidersTable providers={load.data.providers.providers} />
          </section>
          <section class="admin-section" aria-labelledby="admin-audit-title">
            <h2 id="admin-audit-title">Audit log</h2>
            <AdminAuditTable entries={load.data.audit.data} names={names} />
            {moreNote(load.data.audit.meta, 'entries')}
          </section>
        </>
      )}
      <a href="#/">Back to the chat</a>
    </section>
  );
}
