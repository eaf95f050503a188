/**
 * The write statements of the chat store, built but not run: the store hands
 * them to StoreDatabase's atomic write, which runs several as one unit. The
 * ones every turn runs are statement templates (statement-template.ts),
 * compiled once per database.
 */
import type { Compilable, Insertable } from 'kysely';
import type { StoredMessage } from './chat-store.js';
import type { ChatDatabase, ConversationsTable } from './database-schema.js';
import { toMessageRow } from './row-mappers.js';
import { statementTemplate } from './statement-template.js';

export interface UsageIncrement {
  userId: string;
  promptTokens: number;
  completionTokens: number;
  now: string;
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
      .set({ message_count: 0, last_message_at: null, updated_at: now })
      .where('id', '=', conversationId)
      .where('user_id', '=', userId);
  }
}
