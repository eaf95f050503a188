import type { AdminUser } from '../../api/admin-api';
import { budgetText, count, userName } from './admin-format';

/** Every listed user: tokens today (UTC) and in total, what is left of each budget, conversations, whether disabled. */
export function AdminUsersTable({ users }: { users: AdminUser[] }) {
  // Each scroll region is named by its table's caption, not its section's heading: two
  // landmarks of one name are ambiguous to a screen reader (axe landmark-unique).
  return (
    <div class="table-scroll" role="region" aria-labelledby="admin-users-caption" tabIndex={0}>
      <table class="admin-table" id="admin-users">
        <caption id="admin-users-caption" class="visually-hidden">
          Users with their usage and budgets
        </caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col" class="number">
              Tokens today
            </th>
            <th scope="col" class="number">
              Tokens in total
            </th>
            <th scope="col">Left today</th>
            <th scope="col">Left in total</th>
            <th scope="col" class="number">
              Conversations
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.userId} data-user-id={user.userId}>
              <th scope="row" class="admin-user">
                {userName(user)}
                {user.accountRole === 'admin' && <span class="badge"> admin</span>}
              </th>
              <td class="number" data-field="today">
                {count(user.usage.todayTokens)}
              </td>
              <td class="number" data-field="total">
                {count(user.usage.totalTokens)}
              </td>
              <td data-field="daily-left">{budgetText(user.budgets.daily)}</td>
              <td data-field="lifetime-left">{budgetText(user.budgets.lifetime)}</td>
              <td class="number" data-field="conversations">
                {count(user.conversationsCount)}
              </td>
              <td data-field="status">
                <span class={`badge ${user.disabled ? 'bad' : 'ok'}`}>{user.disabled ? 'Disabled' : 'Active'}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
