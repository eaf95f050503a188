/** Conversations grouped as LibreChat and Open WebUI do: Today, Yesterday, Previous 7 days, then by month. */

export interface Dated {
  id: string;
  created_at: string;
  last_message_at: string | null;
  updated_at?: string;
}

export interface DayGroup<T> {
  label: string;
  items: T[];
}

const dayMs = 86_400_000;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function activityOf(item: Dated): string {
  return item.last_message_at ?? item.updated_at ?? item.created_at;
}

export function groupLabel(when: Date, now: Date): string {
  const days = Math.round((startOfDay(now) - startOfDay(when)) / dayMs);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days <= 7) return 'Previous 7 days';
  return when.toLocaleDateString('en', { month: 'long', year: 'numeric' });
}

/** Newest first, in groups in that order; `now` is the person's clock, days in their time zone. */
export function groupByDay<T extends Dated>(items: T[], now = new Date()): DayGroup<T>[] {
  const sorted = [...items].sort((a, b) => activityOf(b).localeCompare(activityOf(a)));
  const groups: DayGroup<T>[] = [];
  for (const item of sorted) {
    const label = groupLabel(new Date(activityOf(item)), now);
    const last = groups[groups.length - 1];
    if (last?.label === label) last.items.push(item);
    else groups.push({ label, items: [item] });
  }
  return groups;
}
