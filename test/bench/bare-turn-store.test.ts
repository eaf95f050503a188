import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareWriteSql } from '../../bench/lib/bare-turn-store.js';
import { ChatWrites } from '../../src/store/chat-writes.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import type { StoreDatabase } from '../../src/store/store-database.js';
import type { StoredMessage } from '../../src/store/chat-store.js';
import { temporarySqliteFile } from '../support/services.js';

/**
 * bench/store.ts compares Parley's store with the bare driver running the
 * same statements; that comparison means something only while the bare
 * copy's SQL is the SQL the store runs. This compiles the store's own
 * statements and compares them, so a change to src/store/ that the bench
 * does not follow fails here.
 */
describe("the store bench's bare baseline", () => {
  let file: Awaited<ReturnType<typeof temporarySqliteFile>>;
  let database: StoreDatabase;

  beforeAll(async () => {
    file = await temporarySqliteFile();
    database = await openSqliteDatabase(file.path);
  });
  afterAll(async () => {
    await database.close();
    await file.remove();
  });

  it("runs the SQL of every write the store's turn makes", () => {
    const writes = new ChatWrites(database.db);
    const now = new Date().toISOString();
    const message: StoredMessage = {
      id: 'm',
      conversationId: 'c',
      userId: 'u',
      role: 'assistant',
      content: 'text',
      status: 'complete',
      tokens: 1,
      model: 'gpt-4o',
      provider: 'openai',
      promptTokens: 1,
      completionTokens: 1,
      timeToFirstTokenMs: 1,
      latencyMs: 1,
      createdAt: now,
    };
    const usage = { userId: 'u', promptTokens: 1, completionTokens: 1, now };
    const compiled = {
      insertUserIfMissing: writes.insertUserIfMissing('u', now),
      countMessage: writes.countMessage('u', 'c', now),
      advanceLeaf: writes.advanceLeaf('u', 'c', now, 'r'),
      insertMessageAfterLeaf: writes.insertMessageAfterLeaf({ ...message, role: 'user' }),
      insertReplyInProgress: writes.insertReplyInProgress({
        id: 'r',
        conversationId: 'c',
        userId: 'u',
        model: 'gpt-4o',
        provider: 'openai',
        createdAt: now,
        instanceId: 'i',
        parentId: 'm',
      }),
      endReply: writes.endReply(message),
      addUsage: writes.addUsage(usage),
      addDailyUsage: writes.addDailyUsage(usage),
    };
    for (const [write, statement] of Object.entries(compiled)) {
      expect(bareWriteSql[write as keyof typeof bareWriteSql], write).toBe(statement.compile().sql);
    }
  });
});
