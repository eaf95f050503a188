import { z } from 'zod';
import type { Page } from '../store/chat-store.js';

/** Every list endpoint's `page` and `limit`: 1-based pages, at most 100 items a page. */
export const paginationQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export interface PageMeta {
  total: number;
  page: number;
  limit: number;
  totalPages: number;
}

export function pageMeta(page: Page, total: number): PageMeta {
  return { total, page: page.page, limit: page.limit, totalPages: Math.ceil(total / page.limit) };
}
