import pino from 'pino';
import { createApp, type App } from '../../src/app/app.js';
import { loadConfig } from '../../src/config/config.js';
import { temporarySqliteFile } from './services.js';

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  app: App;
  /** The server's SQLite file, for suites that check what was stored; undefined on Postgres. */
  sqlitePath: string | undefined;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Environment variables, exactly as a deployment would set them; process.env is not read. */
  env?: Record<string, string | undefined>;
  /** A Postgres schema the test owns; without it the server gets a SQLite file of its own. */
  postgres?: { url: string; schema: string };
}

/** Starts a real Parley on an ephemeral port with its own database, for tests that speak to it over the network. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const sqliteFile = await temporarySqliteFile();
  const databaseUrl = options.postgres?.url ?? `file:${sqliteFile.path}`;
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, SHUTDOWN_GRACE_MS: '500', ...options.env });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = await createApp(config, { logger, ...(options.postgres ? { postgresSchema: options.postgres.schema } : {}) });
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    sqlitePath: options.postgres === undefined ? sqliteFile.path : undefined,
    async close() {
      await app.close();
      await sqliteFile.remove();
    },
  };
}
