import type { AuditEntry } from '../../api/admin-api';
import { timeText } from './admin-format';

/** An entry's `details.changes` (what the admin sent) as `name: value` pairs. */
function changesText(details: Record<string, unknown>): string {
  const changes = details.changes;
  if (typeof changes !== 'object' || changes === null) return '';
  return Object.entries(changes)
    .map(([name, value]) => `${name}: ${value === null ? 'server setting' : String(value)}`)
    .join(', ');
}

/** Admin actions, newest first: who, what, to whom, when. People are named by email where the users list knows them. */
export function AdminAuditTable({ entries, names }: { entries: AuditEntry[]; names: Map<string, string> }) {
  if (entries.length === 0) return <p class="muted">No admin action yet.</p>;
  const name = (userId: string | null) => (userId === null ? '—' : (names.get(userId) ?? userId));
  return (
    <div class="table-scroll" role="region" aria-labelledby="admin-audit-caption" tabIndex={0}>
      <table class="admin-table" id="admin-audit">
        <caption id="admin-audit-caption" class="visually-hidden">
          Audit log, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">User</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-audit-id={entry.id}>
              <td>
                <time dateTime={entry.createdAt}>{timeText(entry.createdAt)}</time>
              </td>
              <td data-field="actor">{name(entry.actorUserId)}</td>
              <td data-field="action">{entry.action}</td>
              <td data-field="target">{name(entry.targetUserId)}</td>
              <td data-field="changes">{changesText(entry.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
