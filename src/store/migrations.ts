/**
 * The schema, as in-code migrations run by Kysely's Migrator. Migrations are
 * append-only: never edit one that has shipped, add the next instead. Every
 * statement is `if not exists` because SQLite migrations run outside a
 * transaction (Kysely's SQLite adapter declines transactional DDL), so a
 * migration interrupted halfway must be safe to run again.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreDatabase } from './store-database.js';

interface ColumnTypes {
  dialect: StoreDatabase['kind'];
  timestamp: 'text' | 'timestamptz';
  bigint: 'integer' | 'bigint';
}

const columnTypesByKind: Record<StoreDatabase['kind'], ColumnTypes> = {
  // SQLite has no date type; ISO text sorts in time order.
  sqlite: { dialect: 'sqlite', timestamp: 'text', bigint: 'integer' },
  postgres: { dialect: 'postgres', timestamp: 'timestamptz', bigint: 'bigint' },
};

export async function migrateToLatest(database: StoreDatabase): Promise<void> {
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider(columnTypesByKind[database.kind]),
    migrationTableSchema: await database.migrationTableSchema(),
  });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) throw new Error('Database migration failed', { cause: error });
}

function migrationProvider(types: ColumnTypes): MigrationProvider {
  return {
    getMigrations: async (): Promise<Record<string, Migration>> => ({
      '0001_users_conversations_messages': { up: (db) => createInitialSchema(db, types) },
      '0002_usage_days_api_keys': { up: (db) => createUsageDaysAndApiKeys(db, types) },
      '0003_replies_in_progress': { up: (db) => createRepliesInProgress(db, types) },
      '0004_tool_messages': { up: (db) => addToolColumns(db, types) },
      '0005_message_search': { up: (db) => createMessageSearch(db, types) },
      '0006_share_links': { up: (db) => createShareLinks(db, types) },
      '0007_accounts': { up: (db) => createAccounts(db, types) },
      '0008_message_tree': { up: (db) => createMessageTree(db, types) },
      '0009_conversation_summaries': { up: (db) => createConversationSummaries(db, types) },
      '0010_admin': { up: (db) => createAdmin(db, types) },
    }),
  };
}

async function createInitialSchema(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await createUsers(db, types);
  await createConversations(db, types);
  await createMessages(db, types);
}

async function createUsers(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('users')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('prompt_tokens', types.bigint, (column) => column.notNull().defaultTo(0))
    .addColumn('completion_tokens', types.bigint, (column) => column.notNull().defaultTo(0))
    .addColumn('total_tokens', types.bigint, (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .addColumn('last_used_at', types.timestamp)
    .execute();
}

async function createConversations(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('conversations')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id'))
    .addColumn('surface', 'text', (column) => column.notNull())
    .addColumn('client_key', 'text')
    .addColumn('title', 'text')
    .addColumn('mode', 'text')
    .addColumn('system_prompt', 'text')
    .addColumn('tags', 'text', (column) => column.notNull().defaultTo('[]'))
    .addColumn('status', 'text', (column) => column.notNull().defaultTo('active'))
    .addColumn('message_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .addColumn('updated_at', types.timestamp, (column) => column.notNull())
    .addColumn('last_message_at', types.timestamp)
    // The target of messages' (conversation_id, user_id) foreign key.
    .addUniqueConstraint('conversations_id_user_id_unique', ['id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('conversations_user_surface_client_key')
    .ifNotExists()
    .unique()
    .on('conversations')
    .columns(['user_id', 'surface', 'client_key'])
    .execute();
  await db.schema
    .createIndex('conversations_user_surface_updated_at')
    .ifNotExists()
    .on('conversations')
    .columns(['user_id', 'surface', 'updated_at'])
    .execute();
}

async function createMessages(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('messages')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('conversation_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('tokens', 'integer', (column) => column.notNull())
    .addColumn('model', 'text')
    .addColumn('provider', 'text')
    .addColumn('prompt_tokens', 'integer')
    .addColumn('completion_tokens', 'integer')
    .addColumn('time_to_first_token_ms', 'integer')
    .addColumn('latency_ms', 'integer')
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    // Keyed on the owner too, so the database itself refuses a message filed
    // under another user's conversation or under one deleted meanwhile.
    .addForeignKeyConstraint('messages_conversation_fk', ['conversation_id', 'user_id'], 'conversations', ['id', 'user_id'], (constraint) =>
      constraint.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('messages_conversation_id_id').ifNotExists().on('messages').columns(['conversation_id', 'id']).execute();
}

/** Daily token totals (for daily budgets) and API keys (stored as hashes only). */
async function createUsageDaysAndApiKeys(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('usage_days')
    .ifNotExists()
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    // The UTC date, YYYY-MM-DD.
    .addColumn('day', 'text', (column) => column.notNull())
    .addColumn('tokens', types.bigint, (column) => column.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('usage_days_pk', ['user_id', 'day'])
    .execute();
  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    // SHA-256 of the whole key; the key itself is shown once and never stored.
    .addColumn('key_hash', 'text', (column) => column.notNull().unique())
    // The key's first characters, so a user can tell their keys apart.
    .addColumn('key_prefix', 'text', (column) => column.notNull())
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .addColumn('revoked_at', types.timestamp)
    .execute();
  await db.schema.createIndex('api_keys_user_id').ifNotExists().on('api_keys').column('user_id').execute();
}

/**
 * Replies are stored from their turn's start, `in_progress` until they end,
 * under the instance writing them; instances beat a heartbeat so that the
 * replies of one that died can be told apart and finished as interrupted.
 */
async function createRepliesInProgress(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await addTextColumn(db, types, 'messages', 'instance_id');
  // Partial: only the few replies streaming right now are in it, so it costs turns nearly nothing.
  await db.schema
    .createIndex('messages_in_progress_instance_id')
    .ifNotExists()
    .on('messages')
    .column('instance_id')
    .where(sql.ref('status'), '=', sql.lit('in_progress'))
    .execute();
  await db.schema
    .createTable('instances')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('started_at', types.timestamp, (column) => column.notNull())
    .addColumn('heartbeat_at', types.timestamp, (column) => column.notNull())
    .execute();
}

/** A reply's tool calls and a tool message's call id, so that conversations with tools read back whole. */
async function addToolColumns(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await addTextColumn(db, types, 'messages', 'tool_calls');
  await addTextColumn(db, types, 'messages', 'tool_call_id');
}

/** Adds a nullable text column, safely run again after an interruption. */
async function addTextColumn(db: Kysely<unknown>, types: ColumnTypes, table: string, column: string): Promise<void> {
  if (types.dialect === 'postgres') {
    await sql`alter table ${sql.table(table)} add column if not exists ${sql.ref(column)} text`.execute(db);
    return;
  }
  // SQLite has no `add column if not exists`: a rerun after this step finds the column there.
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table}) where name = ${column}`.execute(db);
  if (rows.length === 0) await sql`alter table ${sql.table(table)} add column ${sql.ref(column)} text`.execute(db);
}

/**
 * Full-text search over messages that have ended (a reply is indexed once,
 * when it ends, not at each checkpoint while it streams). SQLite: an FTS5
 * table over the messages' text, kept by triggers. Postgres: a GIN index on
 * the text's `simple` tsvector (no stemming, as FTS5's unicode61), partial
 * like the index's queries.
 */
async function createMessageSearch(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  if (types.dialect === 'postgres') {
    await sql`create index if not exists messages_search on messages using gin (to_tsvector('simple', content)) where status <> 'in_progress'`.execute(
      db,
    );
    return;
  }
  await sql`create virtual table if not exists messages_fts using fts5(content, content='messages', content_rowid='rowid')`.execute(db);
  await sql`create trigger if not exists messages_fts_insert after insert on messages when new.status <> 'in_progress'
    begin insert into messages_fts(rowid, content) values (new.rowid, new.content); end`.execute(db);
  await sql`create trigger if not exists messages_fts_end after update of status on messages
    when old.status = 'in_progress' and new.status <> 'in_progress'
    begin insert into messages_fts(rowid, content) values (new.rowid, new.content); end`.execute(db);
  await sql`create trigger if not exists messages_fts_delete after delete on messages when old.status <> 'in_progress'
    begin insert into messages_fts(messages_fts, rowid, content) values ('delete', old.rowid, old.content); end`.execute(db);
  // The messages stored before this migration, once: a rerun after this step finds the index filled.
  const { rows } = await sql<{ indexed: number }>`select count(*) as indexed from messages_fts_docsize`.execute(db);
  if (Number(rows[0]?.indexed ?? 0) === 0) {
    await sql`insert into messages_fts(rowid, content) select rowid, content from messages where status <> 'in_progress'`.execute(db);
  }
}

/** Read-only links to a conversation; they go with it (and with its owner) through the foreign key. */
async function createShareLinks(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('share_links')
    .ifNotExists()
    .addColumn('token', 'text', (column) => column.primaryKey())
    .addColumn('conversation_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .addColumn('revoked_at', types.timestamp)
    .addForeignKeyConstraint(
      'share_links_conversation_fk',
      ['conversation_id', 'user_id'],
      'conversations',
      ['id', 'user_id'],
      (constraint) => constraint.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('share_links_conversation_id').ifNotExists().on('share_links').column('conversation_id').execute();
}

/** Built-in accounts: one per user, its email unique, its password as a scrypt hash only. */
async function createAccounts(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('accounts')
    .ifNotExists()
    .addColumn('user_id', 'text', (column) => column.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (column) => column.notNull().unique())
    .addColumn('password_hash', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .execute();
}

/**
 * Summaries of the oldest messages of conversations too long for the
 * model's context window (src/chat/history-summary.ts). A summary goes with
 * its conversation and with the last message it covers (cleared messages
 * take their summary along).
 */
async function createConversationSummaries(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('conversation_summaries')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('conversation_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('covers_through_message_id', 'text', (column) => column.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('tokens', 'integer', (column) => column.notNull())
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .addForeignKeyConstraint(
      'conversation_summaries_conversation_fk',
      ['conversation_id', 'user_id'],
      'conversations',
      ['id', 'user_id'],
      (constraint) => constraint.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('conversation_summaries_conversation_id_id')
    .ifNotExists()
    .on('conversation_summaries')
    .columns(['conversation_id', 'id'])
    .execute();
}

/**
 * Messages form a tree: each has the message it answers or follows as its
 * parent, and an edit or a regenerated reply is a sibling. A conversation
 * keeps its active leaf, and `branched` once it has siblings anywhere, so
 * that one that never branched keeps reading its history as the plain
 * "latest messages" query. Existing conversations are chains: each
 * message's parent is the one stored before it, the leaf their last.
 */
async function createMessageTree(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await addTextColumn(db, types, 'messages', 'parent_id');
  await addTextColumn(db, types, 'conversations', 'active_message_id');
  await addColumnIfMissing(db, types, 'conversations', 'branched', sql`integer not null default 0`);
  // Idempotent, so a rerun after an interruption finishes the job.
  await sql`update messages set parent_id = (select max(earlier.id) from messages earlier
    where earlier.conversation_id = messages.conversation_id and earlier.id < messages.id) where parent_id is null`.execute(db);
  await sql`update conversations set active_message_id = (select max(messages.id) from messages
    where messages.conversation_id = conversations.id) where active_message_id is null`.execute(db);
}

/**
 * What an admin sets per user (src/transports/admin/): disabled, and
 * overrides of the server's token budgets and rate limit (null: the
 * server's setting); and the audit log of every admin action. The log keeps
 * no foreign key: an entry outlives the users it names.
 */
async function createAdmin(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await addColumnIfMissing(db, types, 'users', 'disabled', sql`integer not null default 0`);
  await addColumnIfMissing(db, types, 'users', 'token_budget_daily', sql.raw(types.bigint));
  await addColumnIfMissing(db, types, 'users', 'token_budget_lifetime', sql.raw(types.bigint));
  await addColumnIfMissing(db, types, 'users', 'rate_limit_per_minute', sql`integer`);
  await db.schema
    .createTable('audit_log')
    .ifNotExists()
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('actor_user_id', 'text', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('target_user_id', 'text')
    // JSON: what the action changed (before and after).
    .addColumn('details', 'text', (column) => column.notNull())
    .addColumn('created_at', types.timestamp, (column) => column.notNull())
    .execute();
}

async function addColumnIfMissing(
  db: Kysely<unknown>,
  types: ColumnTypes,
  table: string,
  column: string,
  definition: ReturnType<typeof sql>,
): Promise<void> {
  if (types.dialect === 'postgres') {
    await sql`alter table ${sql.table(table)} add column if not exists ${sql.ref(column)} ${definition}`.execute(db);
    return;
  }
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table}) where name = ${column}`.execute(db);
  if (rows.length === 0) await sql`alter table ${sql.table(table)} add column ${sql.ref(column)} ${definition}`.execute(db);
}
