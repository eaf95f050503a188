/**
 * Picks the store implementation from the database URL. It does not migrate:
 * callers run `store.migrate()` once at startup.
 */
import { fileURLToPath } from 'node:url';
import type { ChatStore } from './chat-store.js';
import { KyselyChatStore } from './kysely-chat-store.js';

export interface OpenChatStoreOptions {
  /** Postgres only: keep every table in this schema (tests use one per run). */
  postgresSchema?: string;
}

/**
 * `postgres://` or `postgresql://` opens Postgres; `file:<path>`,
 * `file:///<absolute path>` or a bare path opens a SQLite file, creating its
 * directory when missing.
 */
export async function openChatStore(databaseUrl: string, options: OpenChatStoreOptions = {}): Promise<ChatStore> {
  // Each backend's driver loads only when it is the one chosen.
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    const { openPostgresDatabase } = await import('./postgres-database.js');
    const schema = options.postgresSchema;
    return new KyselyChatStore(openPostgresDatabase(databaseUrl, schema === undefined ? {} : { schema }));
  }
  const { openSqliteDatabase } = await import('./sqlite-database.js');
  return new KyselyChatStore(await openSqliteDatabase(sqlitePath(databaseUrl)));
}

function sqlitePath(databaseUrl: string): string {
  if (databaseUrl.startsWith('file://')) return fileURLToPath(databaseUrl);
  // `file:data/parley.db` is relative, as SQLite URLs read, percent-escapes included.
  if (databaseUrl.startsWith('file:')) return decodeURIComponent(databaseUrl.slice('file:'.length));
  return databaseUrl;
}
