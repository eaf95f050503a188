/**
 * The baseline for bench/store.ts: the statements Parley's store runs for one
 * turn (src/store/kysely-chat-store.ts and chat-writes.ts, as Kysely compiles
 * them), run on the bare drivers with nothing in between. Same grouping as
 * Parley: beginTurn reads the history and writes atomically (user row,
 * user message after the active leaf, the reply `in_progress`, conversation
 * count and leaf); finishTurn
 * writes atomically (the reply ended, conversation count, usage, daily
 * usage). test/bench/bare-turn-store.test.ts fails when src/store/ changes
 * a statement this copy does not.
 */
import path from 'node:path';
import Database from 'libsql';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

/** One turn's data, the same for Parley's store and the bare drivers. */
export interface TurnContent {
  prompt: string;
  promptTokens: number;
  reply: string;
  completionTokens: number;
}

export interface TurnRunner {
  /** Creates the user and one conversation of theirs; returns its id. */
  createConversation(userId: string): Promise<string>;
  turn(userId: string, conversationId: string, content: TurnContent): Promise<void>;
  close(): Promise<void>;
}

/** SQLite's `?` placeholders; bare-postgres numbers them. */
const historySql =
  'select * from "messages" where "conversation_id" = ? and "user_id" = ? and "status" != ? and "content" != ? order by "id" desc limit ?';
const insertUserSql = 'insert into "users" ("id", "created_at") values (?, ?) on conflict ("id") do nothing';
const insertConversationSql =
  'insert into "conversations" ("id", "user_id", "surface", "client_key", "title", "mode", "system_prompt", "tags", "message_count", "created_at", "updated_at", "last_message_at", "active_message_id") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *';
const countMessageSql =
  'update "conversations" set "message_count" = "message_count" + ?, "updated_at" = ?, "last_message_at" = ? where "id" = ? and "user_id" = ? returning *';
const advanceLeafSql =
  'update "conversations" set "message_count" = "message_count" + ?, "updated_at" = ?, "last_message_at" = ?, "active_message_id" = ? where "id" = ? and "user_id" = ? returning *';
const insertMessageAfterLeafSql =
  'insert into "messages" ("id", "conversation_id", "user_id", "role", "content", "status", "tokens", "model", "provider", "prompt_tokens", "completion_tokens", "time_to_first_token_ms", "latency_ms", "created_at", "tool_calls", "tool_call_id", "parent_id") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (select "active_message_id" from "conversations" where "id" = ? and "user_id" = ?)) returning "parent_id"';
const insertReplyInProgressSql =
  'insert into "messages" ("id", "conversation_id", "user_id", "model", "provider", "created_at", "instance_id", "parent_id", "role", "content", "status", "tokens") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const endReplySql =
  'update "messages" set "content" = ?, "status" = ?, "tokens" = ?, "model" = ?, "provider" = ?, "prompt_tokens" = ?, "completion_tokens" = ?, "time_to_first_token_ms" = ?, "latency_ms" = ?, "created_at" = ?, "tool_calls" = ?, "tool_call_id" = ?, "instance_id" = ? where "id" = ? and "conversation_id" = ? and "user_id" = ? and "status" = ? returning "parent_id"';
const addUsageSql =
  'update "users" set "prompt_tokens" = "prompt_tokens" + ?, "completion_tokens" = "completion_tokens" + ?, "total_tokens" = "total_tokens" + ?, "last_used_at" = ? where "id" = ?';
const addDailyUsageSql =
  'insert into "usage_days" ("user_id", "day", "tokens") values (?, ?, ?) on conflict ("user_id", "day") do update set "tokens" = "usage_days"."tokens" + ?';

/** The write statements, by the ChatWrites method that builds each: test/bench/bare-turn-store.test.ts keeps them in step. */
export const bareWriteSql = {
  insertUserIfMissing: insertUserSql,
  countMessage: countMessageSql,
  advanceLeaf: advanceLeafSql,
  insertMessageAfterLeaf: insertMessageAfterLeafSql,
  insertReplyInProgress: insertReplyInProgressSql,
  endReply: endReplySql,
  addUsage: addUsageSql,
  addDailyUsage: addDailyUsageSql,
};

type Args = (string | number | null)[];
type Statement = ReturnType<InstanceType<typeof Database>['prepare']>;

/** The statements of one turn with their arguments, in Parley's order. */
function turnStatements(userId: string, conversationId: string, content: TurnContent) {
  const now = new Date().toISOString();
  const tokens = content.promptTokens + content.completionTokens;
  const replyId = uuidv7();
  const userMessageId = uuidv7();
  return {
    history: [historySql, [conversationId, userId, 'failed', '', 20]] as [string, Args],
    begin: [
      [insertUserSql, [userId, now]],
      [
        insertMessageAfterLeafSql,
        [
          userMessageId,
          conversationId,
          userId,
          'user',
          content.prompt,
          'complete',
          content.promptTokens,
          null,
          null,
          null,
          null,
          null,
          null,
          now,
          null,
          null,
          conversationId,
          userId,
        ],
      ],
      [
        insertReplyInProgressSql,
        [replyId, conversationId, userId, 'gpt-4o', 'openai', now, 'bench-instance', userMessageId, 'assistant', '', 'in_progress', 0],
      ],
      [advanceLeafSql, [1, now, now, replyId, conversationId, userId]],
    ] as [string, Args][],
    finish: () => {
      const later = new Date().toISOString();
      return [
        [
          endReplySql,
          [
            content.reply,
            'complete',
            content.completionTokens,
            'gpt-4o',
            'openai',
            content.promptTokens,
            content.completionTokens,
            12,
            1234,
            later,
            null,
            null,
            null,
            replyId,
            conversationId,
            userId,
            'in_progress',
          ],
        ],
        [countMessageSql, [1, later, later, conversationId, userId]],
        [addUsageSql, [content.promptTokens, content.completionTokens, tokens, later, userId]],
        [addDailyUsageSql, [userId, later.slice(0, 10), tokens, tokens]],
      ] as [string, Args][];
    },
  };
}

function conversationStatements(userId: string): { id: string; statements: [string, Args][] } {
  const now = new Date().toISOString();
  const id = uuidv7();
  return {
    id,
    statements: [
      [insertUserSql, [userId, now]],
      [insertConversationSql, [id, userId, 'ai-module', null, 'bench', null, null, '[]', 0, now, now, null, null]],
    ],
  };
}

/**
 * `libsql` (the synchronous better-sqlite3-style driver Parley's store uses)
 * on a file with Parley's pragmas: statements prepared once, each atomic write
 * one BEGIN IMMEDIATE … COMMIT. Being synchronous, a read and the write after
 * it cannot interleave with another turn's, so no queue is needed.
 */
export function bareSqliteRunner(filePath: string): TurnRunner {
  const database = new Database(path.resolve(filePath));
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA foreign_keys = ON');
  const prepared = new Map<string, Statement>();
  const prepare = (sql: string) => {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = database.prepare(sql);
      prepared.set(sql, statement);
    }
    return statement;
  };
  const execute = ([sql, args]: [string, Args]) => {
    const statement = prepare(sql);
    return statement.reader ? statement.all(args) : statement.run(args);
  };
  const atomically = (list: [string, Args][]) => {
    database.exec('BEGIN IMMEDIATE');
    try {
      for (const statement of list) execute(statement);
      database.exec('COMMIT');
    } catch (error) {
      database.exec('ROLLBACK');
      throw error;
    }
  };
  return {
    async createConversation(userId) {
      const { id, statements } = conversationStatements(userId);
      atomically(statements);
      return id;
    },
    async turn(userId, conversationId, content) {
      const statements = turnStatements(userId, conversationId, content);
      execute(statements.history);
      atomically(statements.begin);
      // Parley's turn yields between beginTurn and finishTurn (the reply streams there); so does this one.
      await Promise.resolve();
      atomically(statements.finish());
    },
    async close() {
      database.close();
    },
  };
}

/** A pg Pool (its default size, as Parley's), each atomic write one transaction on a pooled client. */
export function barePostgresRunner(url: string): TurnRunner {
  const pool = new pg.Pool({ connectionString: url });
  const numbered = new Map<string, string>();
  const pgSql = (sql: string) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      let index = 0;
      text = sql.replace(/\?/g, () => `$${++index}`);
      numbered.set(sql, text);
    }
    return text;
  };
  const transaction = async (list: [string, Args][]) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      for (const [sql, args] of list) await client.query(pgSql(sql), args);
      await client.query('commit');
      client.release();
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      client.release(true);
      throw error;
    }
  };
  return {
    async createConversation(userId) {
      const { id, statements } = conversationStatements(userId);
      await transaction(statements);
      return id;
    },
    async turn(userId, conversationId, content) {
      const statements = turnStatements(userId, conversationId, content);
      await pool.query(pgSql(statements.history[0]), statements.history[1]);
      await transaction(statements.begin);
      await transaction(statements.finish());
    },
    close: () => pool.end(),
  };
}
