/**
 * The search statement of each dialect: SQLite's FTS5 table and Postgres's
 * GIN-indexed tsvector (migrations.ts 0005). Terms are letters and digits
 * only (the route keeps nothing else), so they can be quoted into each
 * engine's query syntax without escaping; they are still sent as parameters.
 */
import { sql, type RawBuilder } from 'kysely';
import type { SearchQuery, Surface } from './chat-store.js';
import type { MessageRow } from './database-schema.js';
import type { StoreDatabase } from './store-database.js';

export type SearchRow = MessageRow & { conversation_title: string | null; conversation_surface: Surface };

export function searchStatement(kind: StoreDatabase['kind'], userId: string, query: SearchQuery): RawBuilder<SearchRow> {
  const last = query.terms.length - 1;
  if (kind === 'sqlite') {
    // Every term must appear; the last one may be a word's start (the user is still typing it).
    const match = query.terms.map((term, index) => (index === last ? `"${term}"*` : `"${term}"`)).join(' ');
    return sql<SearchRow>`select m.*, c.title as conversation_title, c.surface as conversation_surface
      from messages_fts f
      join messages m on m.rowid = f.rowid
      join conversations c on c.id = m.conversation_id and c.user_id = m.user_id
      where messages_fts match ${match} and m.user_id = ${userId}
      order by m.id desc limit ${query.limit}`;
  }
  const tsquery = query.terms.map((term, index) => (index === last ? `'${term}':*` : `'${term}'`)).join(' & ');
  return sql<SearchRow>`select m.*, c.title as conversation_title, c.surface as conversation_surface
    from messages m
    join conversations c on c.id = m.conversation_id and c.user_id = m.user_id
    where m.user_id = ${userId} and m.status <> 'in_progress'
      and to_tsvector('simple', m.content) @@ to_tsquery('simple', ${tsquery})
    order by m.id desc limit ${query.limit}`;
}
