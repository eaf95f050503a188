/**
 * The store port. The engine and every surface talk to this interface only;
 * SQLite and Postgres implement it in src/store/kysely-chat-store.ts and one
 * contract suite (test/store/chat-store.contract.ts) runs against both.
 *
 * All timestamps are ISO-8601 strings in UTC. Ids are UUIDv7, so ordering
 * messages by id is ordering them by insertion.
 */

import type { ToolCall } from '../providers/chat-provider.js';

/** Which public API created a conversation; surfaces list only their own. */
export type Surface = 'openai' | 'anthropic' | 'assistant' | 'ai-module' | 'chat-sessions' | 'stream-v2' | 'voice';

export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';
/** How a stored message ended. */
export type MessageStatus = 'complete' | 'interrupted' | 'failed';
/**
 * A reply is `in_progress` from its turn's start until it ends, its text as
 * of its last checkpoint (REPLY_CHECKPOINT_MS); listMessages returns it so,
 * history for a model never does.
 */
export type StoredStatus = MessageStatus | 'in_progress';

export interface Conversation {
  id: string;
  userId: string;
  surface: Surface;
  /** A client-chosen key (seed 003 sessionId, seed 000 per-user history), unique per user and surface. */
  clientKey: string | null;
  title: string | null;
  mode: string | null;
  systemPrompt: string | null;
  tags: string[];
  status: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string | null;
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  userId: string;
  role: MessageRole;
  content: string;
  status: StoredStatus;
  /** Token count of this message's content: the prompt tokenizer count for user messages, completion tokens for replies. */
  tokens: number;
  model: string | null;
  provider: string | null;
  /** Prompt tokens the reply consumed (replies only). */
  promptTokens: number | null;
  /** Completion tokens the reply produced (replies only). */
  completionTokens: number | null;
  timeToFirstTokenMs: number | null;
  latencyMs: number | null;
  createdAt: string;
  /** The tools a reply called (relayed to the client, never run by Parley). */
  toolCalls?: ToolCall[];
  /** A `tool` message: the id of the call whose result it holds. */
  toolCallId?: string;
  /** The message it answers or follows, null for the first; set on messages read back from the store. */
  parentId?: string | null;
  /**
   * Its versions: the ids of the messages with its parent and role, oldest
   * first, itself included. Set by listMessages on a conversation that has
   * branched (absent: it is the only one).
   */
  siblingIds?: string[];
}

export interface NewConversation {
  surface: Surface;
  clientKey?: string | null;
  title?: string | null;
  mode?: string | null;
  systemPrompt?: string | null;
  tags?: string[];
}

/** How a turn finds its conversation. */
export type ConversationTarget =
  /** An existing conversation; not_found unless it belongs to the user. */
  | { kind: 'existing'; conversationId: string }
  /** The user's conversation with this client key on this surface, created on first use. */
  | { kind: 'keyed'; clientKey: string; create: NewConversation }
  /** A new conversation. */
  | { kind: 'new'; create: NewConversation };

/**
 * Where a turn goes in the conversation's message tree, when not after its
 * active leaf. Either way its reply becomes the active leaf.
 */
export type TurnBranch =
  /** The new user message is a new version of this user message: same parent, its reply after it. */
  | { kind: 'edit'; of: string }
  /**
   * No new user message: a new version of this reply, answering the same
   * message (BeginTurnResult.userMessage is that stored message; `content`
   * and `tokens` are not used).
   */
  | { kind: 'regenerate'; of: string };

export interface BeginTurnInput {
  userId: string;
  target: ConversationTarget;
  /** The new user message. */
  content: string;
  /** Token count of `content`. */
  tokens: number;
  /** Set when the new message is a tool's result rather than the user's words: stored with role `tool`. */
  toolCallId?: string;
  /** How many earlier messages to return as history (0 for none). */
  historyLimit: number;
  /** The reply, stored `in_progress` in the same write so that it exists from the turn's start. */
  reply: { model: string; provider: string };
  /** Absent: after the active leaf. Only on an existing conversation; not_found (field `branch.of`) unless `of` is its message of the right role. */
  branch?: TurnBranch;
}

export interface BeginTurnResult {
  conversation: Conversation;
  created: boolean;
  userMessage: StoredMessage;
  /** Up to historyLimit messages before the new one, oldest first; failed replies are left out. */
  history: StoredMessage[];
  /** The id of the reply stored `in_progress`, which finishTurn ends. */
  replyId: string;
  /** The reply's versions (see StoredMessage.siblingIds), itself last. */
  replySiblingIds: string[];
}

export interface FinishTurnInput {
  userId: string;
  conversationId: string;
  /** BeginTurnResult.replyId. */
  messageId: string;
  content: string;
  status: MessageStatus;
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  timeToFirstTokenMs: number | null;
  latencyMs: number;
  /** The tools the reply called, if any. */
  toolCalls?: ToolCall[];
}

/** A reply's text so far, written while it streams so that a crash loses little of it. */
export interface ReplyCheckpoint {
  messageId: string;
  content: string;
  /** Known once the provider has answered; billed if the reply is finished by the sweep. */
  promptTokens: number | null;
}

export interface SearchQuery {
  /** Words (letters and digits only), lowercase. */
  terms: string[];
  limit: number;
}

export interface SearchHit {
  message: StoredMessage;
  conversation: { id: string; title: string | null; surface: Surface };
}

export interface Page {
  page: number;
  limit: number;
}

export interface PageResult<T> {
  items: T[];
  total: number;
}

export interface UsageTotals {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  conversationsCount: number;
  messagesCount: number;
  lastUsedAt: string | null;
}

/** Tokens charged to a user, for budgets. */
export interface TokenUsage {
  lifetimeTokens: number;
  /** Since midnight UTC. */
  todayTokens: number;
}

export interface DailyUsage {
  /** YYYY-MM-DD, UTC. */
  day: string;
  tokens: number;
}

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  /** The key's first characters, to tell keys apart; the key itself is never stored. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewApiKey {
  name: string;
  /** SHA-256 of the key, hex. */
  keyHash: string;
  prefix: string;
}

/** A read-only link to one conversation: whoever holds the token reads it, until the owner revokes it. */
export interface ShareLink {
  /** Unguessable (192 random bits); the link's whole secret. */
  token: string;
  conversationId: string;
  userId: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SharedConversation {
  conversation: Conversation;
  /** Its ended messages, oldest first. */
  messages: StoredMessage[];
}

/** A conversation brought in whole (an export read back): its messages keep their order, text and times. */
export interface ImportedConversation {
  conversation: NewConversation;
  messages: ImportedMessage[];
}

export interface ImportedMessage {
  role: MessageRole;
  content: string;
  /** Token count of `content`, as history trimming needs it. */
  tokens: number;
  status: MessageStatus;
  model: string | null;
  provider: string | null;
  createdAt: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

/**
 * What a model wrote of a conversation's oldest messages, sent in their
 * place once they no longer fit the context window (src/chat/history-summary.ts).
 */
export interface ConversationSummary {
  conversationId: string;
  /** The newest message it covers: it stands for this one and every earlier message. */
  coversThroughMessageId: string;
  content: string;
  /** Token count of `content`. */
  tokens: number;
  createdAt: string;
}

export type NewConversationSummary = Omit<ConversationSummary, 'createdAt'>;

/** A built-in account: an email and a password (stored as its scrypt hash only), for a user id every surface knows. */
export interface Account {
  userId: string;
  /** Lowercase. */
  email: string;
  /** The first account is the admin. */
  role: 'admin' | 'member';
  createdAt: string;
}

/**
 * What an admin set for one user: disabled (every credential of theirs is
 * refused), and overrides of the server's limits. null: the server's
 * setting; 0: no limit (as in the server's settings).
 */
export interface UserAccess {
  userId: string;
  disabled: boolean;
  /** Tokens a UTC day, instead of TOKEN_BUDGET_DAILY. */
  tokenBudgetDaily: number | null;
  /** Tokens in all, instead of TOKEN_BUDGET_LIFETIME. */
  tokenBudgetLifetime: number | null;
  /** Turns a minute, instead of the surface's rate limit. */
  rateLimitPerMinute: number | null;
}

/** Fields to change; a field left out keeps its value, null clears an override. */
export type UserAccessChanges = Partial<Omit<UserAccess, 'userId'>>;

/** One user as the admin API lists them. */
export interface UserSummary {
  userId: string;
  /** Set for built-in accounts. */
  email: string | null;
  accountRole: Account['role'] | null;
  createdAt: string;
  lastUsedAt: string | null;
  todayTokens: number;
  totalTokens: number;
  conversationsCount: number;
  access: UserAccess;
}

/** One admin action. */
export interface AuditEntry {
  id: string;
  actorUserId: string;
  /** What was done, as `noun.verb` (`user.update`). */
  action: string;
  targetUserId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'createdAt'>;

/** One provider's ended replies since a moment, from the messages table. */
export interface ProviderTurnStats {
  provider: string;
  /** Ended replies (complete, interrupted or failed). */
  turns: number;
  failed: number;
  interrupted: number;
  /** Nearest-rank percentiles of time to first token over the replies that had one; null without any. */
  timeToFirstTokenP50Ms: number | null;
  timeToFirstTokenP99Ms: number | null;
}

export interface ChatStore {
  /** Which database this is, for logs and /health. */
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations. Called once at startup. */
  migrate(): Promise<void>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Finds or creates the conversation, reads its history and stores the user
   * message (creating the user row on first sight), atomically.
   */
  beginTurn(input: BeginTurnInput): Promise<BeginTurnResult>;
  /**
   * Ends the reply beginTurn stored and adds its tokens to the user's and
   * conversation's totals, atomically. not_found when the conversation is
   * gone, is not the user's, or the reply was already ended (by the sweep).
   */
  finishTurn(input: FinishTurnInput): Promise<StoredMessage>;
  /** Writes an in-progress reply's text so far; does nothing once the reply has ended. */
  checkpointReply(checkpoint: ReplyCheckpoint): Promise<void>;
  /** Marks this store's instance alive now; its replies in progress are not abandoned while it beats. */
  recordHeartbeat(): Promise<void>;
  /**
   * Ends as interrupted, with their checkpointed text and billed for it, the
   * replies in progress of instances silent since `staleBefore` (crashed or
   * killed). Returns the replies it ended.
   */
  finishAbandonedReplies(staleBefore: Date): Promise<StoredMessage[]>;
  /** Forgets this store's instance at a clean shutdown, once its turns have ended. */
  retireInstance(): Promise<void>;

  createConversation(userId: string, input: NewConversation): Promise<Conversation>;
  /** undefined unless the conversation exists and belongs to the user. */
  getConversation(userId: string, conversationId: string): Promise<Conversation | undefined>;
  /** Most recently updated first. */
  listConversations(userId: string, surface: Surface, page: Page): Promise<PageResult<Conversation>>;
  /**
   * Sets the title; undefined unless the conversation is the user's and,
   * with `onlyIfTitle`, its title is still that one (an automatic title
   * never overwrites a rename). Leaves updated_at alone: renaming is not activity.
   */
  renameConversation(
    userId: string,
    conversationId: string,
    title: string,
    options?: { onlyIfTitle?: string },
  ): Promise<Conversation | undefined>;
  /** false when there was nothing of the user's to delete. Deletes its messages too. */
  deleteConversation(userId: string, conversationId: string): Promise<boolean>;
  /**
   * Deletes guests' conversations (with their messages) not updated since
   * `cutoff`, then guests left with none and unseen since then. Nobody can
   * reach a socket guest's conversations once its connection is gone.
   * Returns how many conversations were deleted.
   */
  forgetIdleGuests(cutoff: Date): Promise<number>;
  /** Deletes every message of the conversation, keeping the conversation itself. */
  clearMessages(userId: string, conversationId: string): Promise<boolean>;
  /**
   * The active branch (root to active leaf), oldest first, a reply still
   * being generated included (status in_progress, its text as last
   * checkpointed); `total` counts the branch.
   */
  listMessages(userId: string, conversationId: string, page: Page): Promise<PageResult<StoredMessage>>;
  /** Stores the conversation's summary, replacing its earlier ones; not_found unless the conversation (and the message) is the user's. */
  saveSummary(userId: string, summary: NewConversationSummary): Promise<ConversationSummary>;
  /** The conversation's summary, if it has one on its active branch and is the user's (one made on another branch is not returned). */
  latestSummary(userId: string, conversationId: string): Promise<ConversationSummary | undefined>;
  /** undefined unless the message exists and is the user's. */
  getMessage(userId: string, messageId: string): Promise<StoredMessage | undefined>;
  /**
   * Makes the branch through this message active: below it, the newest child
   * at each step, down to a leaf. not_found unless it is a message of the
   * user's conversation.
   */
  activateBranch(userId: string, conversationId: string, messageId: string): Promise<void>;
  getUsage(userId: string): Promise<UsageTotals>;
  /** Lifetime and today's tokens; finishTurn adds to both in its atomic write. */
  getTokenUsage(userId: string): Promise<TokenUsage>;
  /**
   * The user's messages (ended ones, on every surface) holding every term,
   * the last one also as a prefix; newest first.
   */
  searchMessages(userId: string, query: SearchQuery): Promise<SearchHit[]>;
  /** Creates the conversation with all its messages in one write (billing nothing: no model was called). */
  importConversation(userId: string, input: ImportedConversation): Promise<Conversation>;
  /** Throws not_found unless the conversation belongs to the user. */
  createShareLink(userId: string, conversationId: string, token: string): Promise<ShareLink>;
  /** The conversation's links, newest first, revoked ones included; not_found unless it is the user's. */
  listShareLinks(userId: string, conversationId: string): Promise<ShareLink[]>;
  /** False when the link is not the user's or already revoked. */
  revokeShareLink(userId: string, token: string): Promise<boolean>;
  /** The conversation behind a live link, with up to `limit` messages; undefined for an unknown or revoked token. */
  readSharedConversation(token: string, limit: number): Promise<SharedConversation | undefined>;
  /** The user's tokens per UTC day (YYYY-MM-DD) from `sinceDay` on, oldest first; days without use are left out. */
  listDailyUsage(userId: string, sinceDay: string): Promise<DailyUsage[]>;
  /** Creates an account (admin when it is the first); invalid_request naming `email` when the email is taken. */
  createAccount(input: { email: string; passwordHash: string }): Promise<Account>;
  /** The account with this (lowercase) email and its password hash, or undefined. */
  findAccount(email: string): Promise<(Account & { passwordHash: string }) | undefined>;
  countAccounts(): Promise<number>;
  /** Bills tokens spent outside a turn (embeddings, automatic titles) to the user's lifetime and today's usage, creating the user if new. */
  recordUsage(userId: string, promptTokens: number, completionTokens?: number): Promise<void>;

  createApiKey(userId: string, input: NewApiKey): Promise<ApiKey>;
  /** Newest first, revoked ones included. */
  listApiKeys(userId: string): Promise<ApiKey[]>;
  /** false when the user has no such unrevoked key. */
  revokeApiKey(userId: string, keyId: string): Promise<boolean>;
  /** The owner of the unrevoked key with this hash. */
  findApiKeyOwner(keyHash: string): Promise<string | undefined>;

  /** Known users (guests left out), oldest first, with their usage today and in total and their access settings. */
  listUsers(page: Page): Promise<PageResult<UserSummary>>;
  /** Every user who is disabled or has an override: what each instance keeps in memory. */
  listUserAccess(): Promise<UserAccess[]>;
  /** The user's access settings; undefined for a user the store has never seen. */
  getUserAccess(userId: string): Promise<UserAccess | undefined>;
  /**
   * Applies the changes and appends the audit entry (its details completed
   * with `before` and `after`) in one atomic write; undefined, writing
   * nothing, for a user the store has never seen.
   */
  updateUserAccess(
    userId: string,
    changes: UserAccessChanges,
    audit: Omit<NewAuditEntry, 'targetUserId'>,
  ): Promise<{ before: UserAccess; after: UserAccess } | undefined>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(page: Page): Promise<PageResult<AuditEntry>>;
  /** Each provider's replies that ended since `since`, with their time-to-first-token percentiles. */
  providerTurnStats(since: Date): Promise<ProviderTurnStats[]>;
}
