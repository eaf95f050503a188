/**
 * Kysely's view of the tables. Both dialects hand back the same JavaScript
 * types: SQLite stores timestamps as ISO text and the Postgres pool parses
 * timestamptz into ISO strings and bigint into numbers (see postgres-database.ts).
 */
import type { Generated, Kysely, Selectable } from 'kysely';
import type { MessageRole, StoredStatus, Surface } from './chat-store.js';

export interface UsersTable {
  /** The JWT `sub`: any text, not necessarily a UUID. */
  id: string;
  prompt_tokens: Generated<number>;
  completion_tokens: Generated<number>;
  total_tokens: Generated<number>;
  created_at: string;
  last_used_at: string | null;
  /** 1 when an admin disabled the user: their tokens and API keys are refused (0010). */
  disabled: Generated<number>;
  /** An admin's overrides of the server's budgets and rate limit; null: the server's (0010). */
  token_budget_daily: number | null;
  token_budget_lifetime: number | null;
  rate_limit_per_minute: number | null;
}

export interface ConversationsTable {
  id: string;
  user_id: string;
  surface: Surface;
  client_key: string | null;
  title: string | null;
  mode: string | null;
  system_prompt: string | null;
  /** A JSON array of strings. */
  tags: string;
  status: Generated<string>;
  message_count: Generated<number>;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  /** The leaf of the branch the conversation shows and continues (0008). */
  active_message_id: string | null;
  /** 1 once any message has a sibling: only then is history read by walking parent ids (0008). */
  branched: Generated<number>;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  user_id: string;
  role: MessageRole;
  content: string;
  status: StoredStatus;
  tokens: number;
  model: string | null;
  provider: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  time_to_first_token_ms: number | null;
  latency_ms: number | null;
  created_at: string;
  /** The instance writing an `in_progress` reply (see migrations.ts 0003). */
  instance_id: string | null;
  /** A reply's tool calls as JSON (ToolCall[]), null when it called none (0004). */
  tool_calls: string | null;
  /** A `tool` message's call id (0004). */
  tool_call_id: string | null;
  /** The message this one answers or follows; null for the first (0008). */
  parent_id: string | null;
}

export interface InstancesTable {
  id: string;
  started_at: string;
  heartbeat_at: string;
}

export interface UsageDaysTable {
  user_id: string;
  /** The UTC date, YYYY-MM-DD. */
  day: string;
  tokens: Generated<number>;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface ShareLinksTable {
  token: string;
  conversation_id: string;
  user_id: string;
  created_at: string;
  revoked_at: string | null;
}

export interface AccountsTable {
  user_id: string;
  email: string;
  password_hash: string;
  role: 'admin' | 'member';
  created_at: string;
}

/** A summary of a conversation's oldest messages, through `covers_through_message_id` (0009). */
export interface ConversationSummariesTable {
  id: string;
  conversation_id: string;
  user_id: string;
  covers_through_message_id: string;
  content: string;
  tokens: number;
  created_at: string;
}

/** Every admin action: who did what to whom, when (0010). */
export interface AuditLogTable {
  id: string;
  actor_user_id: string;
  action: string;
  target_user_id: string | null;
  /** JSON object. */
  details: string;
  created_at: string;
}

export interface DatabaseSchema {
  users: UsersTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  usage_days: UsageDaysTable;
  api_keys: ApiKeysTable;
  share_links: ShareLinksTable;
  accounts: AccountsTable;
  conversation_summaries: ConversationSummariesTable;
  instances: InstancesTable;
  audit_log: AuditLogTable;
}

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ShareLinkRow = Selectable<ShareLinksTable>;

export type ChatDatabase = Kysely<DatabaseSchema>;
