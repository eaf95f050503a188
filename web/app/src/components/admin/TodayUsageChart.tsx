import type { AdminUser } from '../../api/admin-api';
import { count, userName } from './admin-format';

const width = 600;
const rowHeight = 26;
const labelWidth = 200;
const valueWidth = 90;
const longestLabel = 26;

/** Today's heaviest users as horizontal bars, in one small SVG like UsageChart; each bar's title tells who and how many. */
export function TodayUsageChart({ users, top = 10 }: { users: AdminUser[]; top?: number }) {
  const heaviest = users
    .filter((user) => user.usage.todayTokens > 0)
    .sort((first, second) => second.usage.todayTokens - first.usage.todayTokens)
    .slice(0, top);
  if (heaviest.length === 0) return <p class="muted">No tokens used today yet.</p>;
  const most = Math.max(1, ...heaviest.map((user) => user.usage.todayTokens));
  const barSpace = width - labelWidth - valueWidth;
  const label = (name: string) => (name.length > longestLabel ? `${name.slice(0, longestLabel - 1)}…` : name);
  return (
    <svg
      class="usage-chart admin-chart"
      viewBox={`0 0 ${width} ${heaviest.length * rowHeight}`}
      role="img"
      aria-label={`Tokens today for the ${heaviest.length} heaviest users: ${heaviest
        .map((user) => `${userName(user)} ${count(user.usage.todayTokens)}`)
        .join(', ')}`}
    >
      {heaviest.map((user, index) => {
        const y = index * rowHeight;
        const barWidth = Math.max(2, Math.round((user.usage.todayTokens / most) * barSpace));
        return (
          <g key={user.userId}>
            <text x={labelWidth - 8} y={y + rowHeight / 2 + 4} class="label" text-anchor="end">
              {label(userName(user))}
            </text>
            <rect
              class="bar"
              x={labelWidth}
              y={y + 4}
              width={barWidth}
              height={rowHeight - 8}
              data-user-id={user.userId}
              data-tokens={user.usage.todayTokens}
            >
              <title>
                {userName(user)}: {count(user.usage.todayTokens)} tokens today
              </title>
            </rect>
            <text x={labelWidth + barWidth + 6} y={y + rowHeight / 2 + 4} class="label">
              {count(user.usage.todayTokens)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
