/** Counts message rows through a second connection, so tests check the tables rather than the store's own answers. */
import type { StoreDatabase } from '../../src/store/store-database.js';

export function messageRowCounter(database: StoreDatabase) {
  return async (conversationId: string): Promise<number> => {
    const row = await database.db
      .selectFrom('messages')
      .where('conversation_id', '=', conversationId)
      .select((expression) => expression.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  };
}
