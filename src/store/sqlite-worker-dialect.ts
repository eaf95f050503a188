import {
  type CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import type { SqliteWorkerConnection } from './sqlite-worker-client.js';

/**
 * Kysely's SQLite dialect over the worker connection. Queries are sent as
 * they come, without Kysely's one-query-at-a-time mutex: the worker answers
 * them in order on its one connection. Kysely transactions are refused: on
 * one shared connection other queries would run inside them; atomic writes
 * go through StoreDatabase.write (sqlite-group-commit.ts).
 */
export class SqliteWorkerDialect implements Dialect {
  constructor(private readonly connection: SqliteWorkerConnection) {}

  createAdapter() {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new SqliteWorkerDriver(this.connection);
  }

  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

class SqliteWorkerDriver implements Driver {
  private readonly databaseConnection: DatabaseConnection;

  constructor(connection: SqliteWorkerConnection) {
    this.databaseConnection = {
      async executeQuery<Row>(compiled: CompiledQuery): Promise<QueryResult<Row>> {
        const result = await connection.query({ sql: compiled.sql, parameters: compiled.parameters });
        if (result.changes === undefined) return { rows: result.rows as Row[] };
        return {
          rows: [],
          numAffectedRows: BigInt(result.changes),
          ...(result.lastInsertRowid !== undefined && { insertId: BigInt(result.lastInsertRowid) }),
        };
      },
      streamQuery() {
        throw new Error('The SQLite store does not stream queries');
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.databaseConnection;
  }

  async beginTransaction(): Promise<void> {
    throw new Error('Kysely transactions are not used on SQLite: write through StoreDatabase.write');
  }

  async commitTransaction(): Promise<void> {}

  async rollbackTransaction(): Promise<void> {}

  async releaseConnection(): Promise<void> {}

  // The connection is the StoreDatabase's, closed by it once the writes have drained.
  async destroy(): Promise<void> {}
}
