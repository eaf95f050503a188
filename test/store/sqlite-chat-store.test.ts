import { pathToFileURL } from 'node:url';
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
});
