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
  /** Postgres only: how long connecting or a query may take before it fails as store_unavailable (default 10 s). */
  timeoutMs?: number;
  /** Postgres only: told when a pooled connection is lost. */
  onConnectionLost?: (error: Error) => void;
}

/** Opens what DATABASE_URL names (see databaseLocation), creating a SQLite file's directory when missing. */
export async function openChatStore(databaseUrl: string, options: OpenChatStoreOptions = {}): Promise<ChatStore> {
  const location = databaseLocation(databaseUrl);
  // Each backend's driver loads only when it is the one chosen.
  if (location.kind === 'postgres') {
    const { openPostgresDatabase } = await import('./postgres-database.js');
    const schema = options.postgresSchema;
    const database = openPostgresDatabase(location.url, {
      ...(schema === undefined ? {} : { schema }),
      timeoutMs: options.timeoutMs ?? 10_000,
      onConnectionLost: options.onConnectionLost ?? (() => {}),
    });
    return new KyselyChatStore(database);
  }
  const { openSqliteDatabase } = await import('./sqlite-database.js');
  return new KyselyChatStore(await openSqliteDatabase(location.path));
}
