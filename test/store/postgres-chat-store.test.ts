import { describe } from 'vitest';
import { openChatStore } from '../../src/store/open-chat-store.js';
import { openPostgresDatabase } from '../../src/store/postgres-database.js';
import { checkPostgres, createPostgresSchema, postgresUrl, requireService } from '../support/services.js';
import { defineChatStoreContract } from './chat-store.contract.js';
import { messageRowCounter } from './message-row-counter.js';

const postgresAvailable = await requireService('PostgreSQL', () => checkPostgres());

describe.skipIf(!postgresAvailable)('Postgres chat store', () => {
  defineChatStoreContract(async () => {
    const { schema, drop } = await createPostgresSchema();
    const store = await openChatStore(postgresUrl(), { postgresSchema: schema });
    const inspection = openPostgresDatabase(postgresUrl(), { schema, timeoutMs: 10_000, onConnectionLost: () => {} });
    return {
      store,
      countMessageRows: messageRowCounter(inspection),
      dispose: async () => {
        await store.close();
        await inspection.close();
        await drop();
      },
    };
  });
});
