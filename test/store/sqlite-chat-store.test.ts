import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openChatStore } from '../../src/store/open-chat-store.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { temporarySqliteFile } from '../support/services.js';
import { defineChatStoreContract } from './chat-store.contract.js';
import { messageRowCounter } from './message-row-counter.js';

describe('SQLite chat store', () => {
  defineChatStoreContract(async () => {
    const file = await temporarySqliteFile();
    const store = await openChatStore(`file:${file.path}`);
    const inspection = await openSqliteDatabase(file.path);
    return {
      store,
      countMessageRows: messageRowCounter(inspection),
      dispose: async () => {
        await store.close();
        await inspection.close();
        await file.remove();
      },
    };
  });

  it('a bare path and a file:// URL open the same database, creating its directory', async () => {
    const file = await temporarySqliteFile();
    try {
      const byPath = await openChatStore(file.path);
      await byPath.migrate();
      const conversation = await byPath.createConversation('someone', { surface: 'openai', title: 'Kept' });
      await byPath.close();
      const byUrl = await openChatStore(pathToFileURL(file.path).href);
      expect(await byUrl.getConversation('someone', conversation.id)).toEqual(conversation);
      await byUrl.close();
    } finally {
      await file.remove();
    }
  });

  it('migration 0008 turns the conversations stored before it into chains, their last message the active leaf', async () => {
    const file = await temporarySqliteFile();
    const store = await openChatStore(`file:${file.path}`);
    const inspection = await openSqliteDatabase(file.path);
    try {
      await store.migrate();
      const first = await store.beginTurn({
        userId: 'someone',
        target: { kind: 'new', create: { surface: 'chat-sessions' } },
        content: 'one',
        tokens: 1,
        historyLimit: 20,
        reply: { model: 'm', provider: 'p' },
      });
      // As a database from before 0008 has it: no parents, no leaf, and neither 0008 nor a later one run
      // (Kysely refuses a gap); the later ones are safe to run again.
      await sql`update messages set parent_id = null`.execute(inspection.db);
      await sql`update conversations set active_message_id = null`.execute(inspection.db);
      await sql`delete from kysely_migration where name >= '0008'`.execute(inspection.db);
      await store.migrate();
      const { items } = await store.listMessages('someone', first.conversation.id, { page: 1, limit: 10 });
      expect(items.map((message) => message.parentId)).toEqual([null, first.userMessage.id]);
      const next = await store.beginTurn({
        userId: 'someone',
        target: { kind: 'existing', conversationId: first.conversation.id },
        content: 'two',
        tokens: 1,
        historyLimit: 20,
        reply: { model: 'm', provider: 'p' },
      });
      expect(next.userMessage.parentId).toBe(first.replyId);
    } finally {
      await store.close();
      await inspection.close();
      await file.remove();
    }
  });
});
