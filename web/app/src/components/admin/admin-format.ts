import type { AdminUser, BudgetLeft } from '../../api/admin-api';

/** How the admin page writes numbers, budgets, people and times. */

export const count = (value: number) => value.toLocaleString('en');

export const milliseconds = (value: number | null) => (value === null ? '—' : `${count(Math.round(value))} ms`);

export function budgetText(budget: BudgetLeft): string {
  if (budget.limit === null || budget.left === null) return 'no limit';
  return `${count(budget.left)} of ${count(budget.limit)}`;
}

export const userName = (user: Pick<AdminUser, 'email' | 'userId'>) => user.email ?? user.userId;

export function timeText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });
}
