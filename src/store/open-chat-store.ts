/**
 * Picks the store implementation from the database URL. It does not migrate:
 * callers run `store.migrate()` once at startup.
 */
import type { ChatStore } from './chat-store.js';
import { databaseLocation } from './database-url.js';
import { KyselyChatStore } from './kysely-chat-store.js';

export interface OpenChatStoreOptions {
  /** Postgres only: keep every table in this schema (tests use one per run). */
  postgresSchema?: string;
}

/** Opens what DATABASE_URL names (see databaseLocation), creating a SQLite file's directory when missing. */
export async function openChatStore(databaseUrl: string, options: OpenChatStoreOptions = {}): Promise<ChatStore> {
  const location = databaseLocation(databaseUrl);
  // Each backend's driver loads only when it is the one chosen.
  if (location.kind === 'postgres') {
    const { openPostgresDatabase } = await import('./postgres-database.js');
    const schema = options.postgresSchema;
    return new KyselyChatStore(openPostgresDatabase(location.url, schema === undefined ? {} : { schema }));
  }
  const { openSqliteDatabase } = await import('./sqlite-database.js');
  return new KyselyChatStore(await openSqliteDatabase(location.path));
}
