/**
 * The write statements of the chat store, built but not run: the store hands
 * them to StoreDatabase's atomic write, which runs several as one unit. The
 * ones every turn runs are statement templates (statement-template.ts),
 * compiled once per database.
 */
import type { Compilable, Insertable } from 'kysely';
import type { ReplyCheckpoint, StoredMessage } from './chat-store.js';
import type { ChatDatabase, ConversationsTable } from './database-schema.js';
import { toMessageRow } from './row-mappers.js';
import { statementTemplate } from './statement-template.js';

export interface UsageIncrement {
  userId: string;
  promptTokens: number;
  completionTokens: number;
  now: string;
}

export interface ReplyInProgress {
  id: string;
  conversationId: string;
  userId: string;
  model: string;
  provider: string;
  createdAt: string;
  instanceId: string;
  /** The message it answers. */
  parentId: string;
}

/** Guests' user ids (src/core/identity.ts anonymousIdentity). */
const guestPrefix = 'anonymous:';

export class ChatWrites {
  constructor(private readonly db: ChatDatabase) {}

  private readonly insertUserStatement = statementTemplate((row: { id: string; created_at: string }) =>
    this.db
      .insertInto('users')
      .values(row)
      .onConflict((conflict) => conflict.column('id').doNothing()),
  );

  /** Users are created on first sight; their id is the JWT subject. */
  insertUserIfMissing(userId: string, now: string): Compilable {
    return this.insertUserStatement({ id: userId, created_at: now });
  }

  readonly insertConversation = statementTemplate((row: Insertable<ConversationsTable>) =>
    this.db.insertInto('conversations').values(row).returningAll(),
  );

  private readonly insertMessageRow = statementTemplate((row: ReturnType<typeof toMessageRow>) =>
    this.db.insertInto('messages').values(row),
  );

  insertMessage(message: StoredMessage): Compilable {
    return this.insertMessageRow(toMessageRow(message));
  }

  private readonly insertAfterLeafRow = statementTemplate((row: Omit<ReturnType<typeof toMessageRow>, 'parent_id'>) =>
    this.db
      .insertInto('messages')
      .values({
        ...row,
        parent_id: this.db
          .selectFrom('conversations')
          .select('active_message_id')
          .where('id', '=', row.conversation_id)
          .where('user_id', '=', row.user_id),
      })
      .returning('parent_id'),
  );

  /**
   * A turn's user message after its conversation's active leaf, read by the
   * insert itself (no round trip of its own); returns its parent_id. Must
   * run before advanceLeaf moves the leaf.
   */
  insertMessageAfterLeaf(message: StoredMessage): Compilable {
    const { parent_id: _parent, ...row } = toMessageRow(message);
    return this.insertAfterLeafRow(row);
  }

  private readonly insertReplyRow = statementTemplate(
    (row: {
      id: string;
      conversation_id: string;
      user_id: string;
      model: string;
      provider: string;
      created_at: string;
      instance_id: string;
      parent_id: string;
    }) => this.db.insertInto('messages').values({ ...row, role: 'assistant', content: '', status: 'in_progress', tokens: 0 }),
  );

  /** The reply of a turn that has just started, `in_progress` under this instance until it ends. */
  insertReplyInProgress(reply: ReplyInProgress): Compilable {
    return this.insertReplyRow({
      id: reply.id,
      conversation_id: reply.conversationId,
      user_id: reply.userId,
      model: reply.model,
      provider: reply.provider,
      created_at: reply.createdAt,
      instance_id: reply.instanceId,
      parent_id: reply.parentId,
    });
  }

  private readonly endReplyStatement = statementTemplate((row: Omit<ReturnType<typeof toMessageRow>, 'role' | 'parent_id'>) => {
    // created_at too: a reply dates from when it ended, as the conversation's last message does.
    const { id, conversation_id, user_id, ...ended } = row;
    return this.db
      .updateTable('messages')
      .set({ ...ended, instance_id: null })
      .where('id', '=', id)
      .where('conversation_id', '=', conversation_id)
      .where('user_id', '=', user_id)
      .where('status', '=', 'in_progress')
      .returning('parent_id');
  });

  /**
   * Ends a reply still in progress; changes no row once it has ended (guard
   * the write on it). Returns its parent_id, which the reply keeps.
   */
  endReply(message: StoredMessage): Compilable {
    const { role: _role, parent_id: _parent, ...row } = toMessageRow(message);
    return this.endReplyStatement(row);
  }

  private readonly checkpointReplyStatement = statementTemplate((checkpoint: ReplyCheckpoint) =>
    this.db
      .updateTable('messages')
      .set({ content: checkpoint.content, prompt_tokens: checkpoint.promptTokens })
      .where('id', '=', checkpoint.messageId)
      .where('status', '=', 'in_progress'),
  );

  checkpointReply(checkpoint: ReplyCheckpoint): Compilable {
    return this.checkpointReplyStatement(checkpoint);
  }

  private readonly heartbeatStatement = statementTemplate((values: { id: string; now: string }) =>
    this.db
      .insertInto('instances')
      .values({ id: values.id, started_at: values.now, heartbeat_at: values.now })
      .onConflict((conflict) => conflict.column('id').doUpdateSet({ heartbeat_at: values.now })),
  );

  recordHeartbeat(instanceId: string, now: string): Compilable {
    return this.heartbeatStatement({ id: instanceId, now });
  }

  deleteInstance(instanceId: string): Compilable {
    return this.db.deleteFrom('instances').where('id', '=', instanceId);
  }

  deleteSilentInstances(staleBefore: string): Compilable {
    return this.db.deleteFrom('instances').where('heartbeat_at', '<', staleBefore);
  }

  private readonly countMessageStatement = statementTemplate((values: { userId: string; conversationId: string; now: string }) =>
    this.db
      .updateTable('conversations')
      .set((expression) => ({
        message_count: expression('message_count', '+', 1),
        updated_at: values.now,
        last_message_at: values.now,
      }))
      .where('id', '=', values.conversationId)
      .where('user_id', '=', values.userId)
      .returningAll(),
  );

  /** Counts one more message; returns the updated row. */
  countMessage(userId: string, conversationId: string, now: string): Compilable {
    return this.countMessageStatement({ userId, conversationId, now });
  }

  private readonly advanceLeafStatement = statementTemplate(
    (values: { userId: string; conversationId: string; now: string; leafId: string }) =>
      this.db
        .updateTable('conversations')
        .set((expression) => ({
          message_count: expression('message_count', '+', 1),
          updated_at: values.now,
          last_message_at: values.now,
          active_message_id: values.leafId,
        }))
        .where('id', '=', values.conversationId)
        .where('user_id', '=', values.userId)
        .returningAll(),
  );

  /** A turn's write to its conversation: one more message, and its reply as the active leaf; returns the updated row. */
  advanceLeaf(userId: string, conversationId: string, now: string, leafId: string): Compilable {
    return this.advanceLeafStatement({ userId, conversationId, now, leafId });
  }

  /** advanceLeaf for a turn that made a sibling (an edit adds a message, a regenerated reply none until it ends). */
  advanceLeafBranching(userId: string, conversationId: string, now: string, leafId: string, addedMessages: number): Compilable {
    return this.db
      .updateTable('conversations')
      .set((expression) => ({
        message_count: expression('message_count', '+', addedMessages),
        updated_at: now,
        last_message_at: now,
        active_message_id: leafId,
        branched: 1,
      }))
      .where('id', '=', conversationId)
      .where('user_id', '=', userId)
      .returningAll();
  }

  /** Makes this message the conversation's active leaf; changes no row unless the conversation is the user's. */
  setActiveLeaf(userId: string, conversationId: string, leafId: string): Compilable {
    return this.db
      .updateTable('conversations')
      .set({ active_message_id: leafId })
      .where('id', '=', conversationId)
      .where('user_id', '=', userId);
  }

  private readonly addUsageStatement = statementTemplate(
    (values: { userId: string; promptTokens: number; completionTokens: number; totalTokens: number; now: string }) =>
      this.db
        .updateTable('users')
        .set((expression) => ({
          prompt_tokens: expression('prompt_tokens', '+', values.promptTokens),
          completion_tokens: expression('completion_tokens', '+', values.completionTokens),
          total_tokens: expression('total_tokens', '+', values.totalTokens),
          last_used_at: values.now,
        }))
        .where('id', '=', values.userId),
  );

  addUsage({ userId, promptTokens, completionTokens, now }: UsageIncrement): Compilable {
    return this.addUsageStatement({ userId, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, now });
  }

  private readonly addDailyUsageStatement = statementTemplate((values: { userId: string; day: string; tokens: number }) =>
    this.db
      .insertInto('usage_days')
      .values({ user_id: values.userId, day: values.day, tokens: values.tokens })
      .onConflict((conflict) =>
        conflict.columns(['user_id', 'day']).doUpdateSet((expression) => ({ tokens: expression('usage_days.tokens', '+', values.tokens) })),
      ),
  );

  /** Adds to the user's total for the UTC day of `now`, for daily budgets. */
  addDailyUsage({ userId, promptTokens, completionTokens, now }: UsageIncrement): Compilable {
    return this.addDailyUsageStatement({ userId, day: now.slice(0, 10), tokens: promptTokens + completionTokens });
  }

  deleteConversation(userId: string, conversationId: string): Compilable {
    return this.db.deleteFrom('conversations').where('id', '=', conversationId).where('user_id', '=', userId);
  }

  deleteIdleGuestConversations(cutoff: string): Compilable {
    return this.db.deleteFrom('conversations').where('user_id', 'like', `${guestPrefix}%`).where('updated_at', '<', cutoff);
  }

  deleteIdleGuestsWithoutConversations(cutoff: string): Compilable {
    return this.db
      .deleteFrom('users')
      .where('id', 'like', `${guestPrefix}%`)
      .where((expression) => expression(expression.fn.coalesce('last_used_at', 'created_at'), '<', cutoff))
      .where((expression) =>
        expression.not(
          expression.exists(expression.selectFrom('conversations').select('id').whereRef('conversations.user_id', '=', 'users.id')),
        ),
      );
  }

  deleteMessages(userId: string, conversationId: string): Compilable {
    return this.db.deleteFrom('messages').where('conversation_id', '=', conversationId).where('user_id', '=', userId);
  }

  resetMessageCount(userId: string, conversationId: string, now: string): Compilable {
    return this.db
      .updateTable('conversations')
      .set({ message_count: 0, last_message_at: null, updated_at: now, active_message_id: null, branched: 0 })
      .where('id', '=', conversationId)
      .where('user_id', '=', userId);
  }
}
