/**
 * The write statements of the chat store, built but not run: the store hands
 * them to StoreDatabase's atomic write, which runs several as one unit.
 */
import type { Compilable, Insertable } from 'kysely';
import type { StoredMessage } from './chat-store.js';
import type { ChatDatabase, ConversationsTable } from './database-schema.js';
import { toMessageRow } from './row-mappers.js';

/** Users are created on first sight; their id is the JWT subject. */
export function insertUserIfMissing(db: ChatDatabase, userId: string, now: string): Compilable {
  return db
    .insertInto('users')
    .values({ id: userId, created_at: now })
    .onConflict((conflict) => conflict.column('id').doNothing());
}

export function insertConversation(db: ChatDatabase, row: Insertable<ConversationsTable>): Compilable {
  return db.insertInto('conversations').values(row).returningAll();
}

export function insertMessage(db: ChatDatabase, message: StoredMessage): Compilable {
  return db.insertInto('messages').values(toMessageRow(message));
}

/** Counts one more message; returns the updated row. */
export function countMessage(db: ChatDatabase, userId: string, conversationId: string, now: string): Compilable {
  return db
    .updateTable('conversations')
    .set((expression) => ({
      message_count: expression('message_count', '+', 1),
      updated_at: now,
      last_message_at: now,
    }))
    .where('id', '=', conversationId)
    .where('user_id', '=', userId)
    .returningAll();
}

export interface UsageIncrement {
  userId: string;
  promptTokens: number;
  completionTokens: number;
  now: string;
}

export function addUsage(db: ChatDatabase, { userId, promptTokens, completionTokens, now }: UsageIncrement): Compilable {
  return db
    .updateTable('users')
    .set((expression) => ({
      prompt_tokens: expression('prompt_tokens', '+', promptTokens),
      completion_tokens: expression('completion_tokens', '+', completionTokens),
      total_tokens: expression('total_tokens', '+', promptTokens + completionTokens),
      last_used_at: now,
    }))
    .where('id', '=', userId);
}

/** Adds to the user's total for the UTC day of `now`, for daily budgets. */
export function addDailyUsage(db: ChatDatabase, { userId, promptTokens, completionTokens, now }: UsageIncrement): Compilable {
  const tokens = promptTokens + completionTokens;
  return db
    .insertInto('usage_days')
    .values({ user_id: userId, day: now.slice(0, 10), tokens })
    .onConflict((conflict) =>
      conflict.columns(['user_id', 'day']).doUpdateSet((expression) => ({ tokens: expression('usage_days.tokens', '+', tokens) })),
    );
}

export function deleteConversation(db: ChatDatabase, userId: string, conversationId: string): Compilable {
  return db.deleteFrom('conversations').where('id', '=', conversationId).where('user_id', '=', userId);
}

export function deleteMessages(db: ChatDatabase, userId: string, conversationId: string): Compilable {
  return db.deleteFrom('messages').where('conversation_id', '=', conversationId).where('user_id', '=', userId);
}

export function resetMessageCount(db: ChatDatabase, userId: string, conversationId: string, now: string): Compilable {
  return db
    .updateTable('conversations')
    .set({ message_count: 0, last_message_at: null, updated_at: now })
    .where('id', '=', conversationId)
    .where('user_id', '=', userId);
}
