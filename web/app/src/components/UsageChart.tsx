import type { DailyUsage } from '../api/types';

const width = 600;
const height = 160;

/** Tokens per day as bars, in one small SVG; each bar's title tells its day and count. */
export function UsageChart({ days }: { days: DailyUsage['days'] }) {
  const most = Math.max(1, ...days.map((day) => day.tokens));
  const slot = width / Math.max(1, days.length);
  return (
    <svg
      class="usage-chart"
      viewBox={`0 0 ${width} ${height + 20}`}
      role="img"
      aria-label={`Tokens per day over the last ${days.length} days`}
    >
      {days.map((day, index) => {
        const barHeight = Math.round((day.tokens / most) * height);
        return (
          <rect
            key={day.day}
            class="bar"
            x={index * slot + 1}
            y={height - barHeight}
            width={Math.max(1, slot - 2)}
            height={barHeight}
            data-day={day.day}
            data-tokens={day.tokens}
          >
            <title>
              {day.day}: {day.tokens} tokens
            </title>
          </rect>
        );
      })}
      <line x1="0" y1={height} x2={width} y2={height} class="axis" />
      <text x="0" y={height + 16} class="label">
        {days[0]?.day}
      </text>
      <text x={width} y={height + 16} class="label" text-anchor="end">
        {days[days.length - 1]?.day}
      </text>
    </svg>
  );
}
