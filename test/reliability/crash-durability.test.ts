/**
 * Crash durability: Parley is SIGKILLed while dozens of replies stream, then
 * restarted. Every acknowledged user message must be stored, every reply in
 * flight must end interrupted with the text checkpointed before the kill,
 * nothing may be corrupt, and the usage totals must add up. Runs on SQLite
 * and on Postgres, against Parley as `npm start` runs it.
 */
import { randomBytes } from 'node:crypto';
import Database from 'libsql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, tokenize } from '../support/fake-upstream.js';
import { spawnParley, type ParleyProcess } from '../support/parley-process.js';
import { checkPostgres, postgresUrl, requireService, temporarySqliteFile } from '../support/services.js';

const rounds = 3;
const turnsPerRound = 12;
/** 400 tokens at 20 ms: every reply is still streaming when the process dies. */
const fullReply = Array.from({ length: 400 }, (_, index) => `w${index}`).join(' ');
const replyTokens = tokenize(fullReply);
const checkpointMs = 100;

const unlimited = {
  RATE_LIMIT_DEFAULT: '0/60',
  RATE_LIMIT_DEFAULT_ANONYMOUS: '0/60',
  MAX_CONCURRENT_TURNS_PER_USER: '0',
  TOKEN_BUDGET_LIFETIME: '0',
};

interface StreamedTurn {
  content: string;
  acknowledged: boolean;
  /** The reply text the client had received when the process died. */
  received: string;
}

interface StoredRow {
  conversation_id: string;
  role: string;
  status: string;
  content: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

interface StoreReader {
  messages(): Promise<StoredRow[]>;
  /** users.total_tokens, the sum of usage_days, and each conversation's message_count. */
  totals(): Promise<{ userTokens: number; dailyTokens: number; counts: Map<string, number> }>;
  /** Empty when the database is sound. */
  corruption(): Promise<string[]>;
  close(): Promise<void>;
}

/** Starts a streaming completion and follows it until the process dies or `until` resolves. */
async function streamTurn(url: string, content: string): Promise<{ turn: StreamedTurn; acknowledged: Promise<void> }> {
  const turn: StreamedTurn = { content, acknowledged: false, received: '' };
  let acknowledge!: () => void;
  const acknowledged = new Promise<void>((resolve) => (acknowledge = resolve));
  void (async () => {
    try {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] }),
      });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body!) {
        // The first chunk (the role) is sent once the user message is stored: the turn is acknowledged.
        if (!turn.acknowledged) {
          turn.acknowledged = true;
          acknowledge();
        }
        buffer += decoder.decode(chunk, { stream: true });
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith('data: {')) continue;
          const delta = (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content;
          if (delta !== undefined) turn.received += delta;
        }
      }
    } catch {
      // The connection dies with the process.
    }
  })();
  return { turn, acknowledged };
}

function defineCrashSuite(
  name: string,
  open: () => Promise<{ env: Record<string, string>; reader: () => StoreReader; drop(): Promise<void> }>,
) {
  describe(name, () => {
    let fake: FakeUpstream;
    let database: Awaited<ReturnType<typeof open>>;

    beforeAll(async () => {
      fake = await FakeUpstream.start({ reply: fullReply, tokenDelayMs: 20 });
      database = await open();
    });
    afterAll(async () => {
      await database?.drop();
      await fake?.close();
    });

    it(
      `keeps every acknowledged turn and ends every reply in flight as interrupted across ${rounds} SIGKILLs`,
      { timeout: 90_000 },
      async () => {
        const env = {
          ...database.env,
          ...unlimited,
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: fake.openaiBaseUrl,
          REPLY_CHECKPOINT_MS: String(checkpointMs),
          INSTANCE_HEARTBEAT_MS: '200',
        };
        const turns: StreamedTurn[] = [];
        const killDelays: number[] = [];
        for (let round = 0; round < rounds; round += 1) {
          const parley: ParleyProcess = await spawnParley(env);
          const started = await Promise.all(
            Array.from({ length: turnsPerRound }, (_, index) => streamTurn(parley.url, `round ${round} turn ${index}`)),
          );
          await Promise.all(started.map((entry) => entry.acknowledged));
          // Somewhere between a few tokens in and far past several checkpoints.
          const killAfter = 150 + Math.floor(Math.random() * 1_200);
          killDelays.push(killAfter);
          await new Promise((resolve) => setTimeout(resolve, killAfter));
          await parley.kill();
          turns.push(...started.map((entry) => entry.turn));
        }

        // The restarted Parley ends what the dead ones left in progress.
        const survivor = await spawnParley(env);
        const reader = database.reader();
        try {
          await expect
            .poll(async () => (await reader.messages()).filter((row) => row.status === 'in_progress').length, { timeout: 5_000 })
            .toBe(0);
          const rows = await reader.messages();
          const byConversation = new Map<string, StoredRow[]>();
          for (const row of rows) byConversation.set(row.conversation_id, [...(byConversation.get(row.conversation_id) ?? []), row]);
          const context = `kill delays ${killDelays.join(', ')} ms`;

          for (const turn of turns) {
            expect(turn.acknowledged, context).toBe(true);
            const question = rows.find((row) => row.role === 'user' && row.content === turn.content);
            expect(question, `${turn.content} is stored (${context})`).toBeDefined();
            const replies = byConversation.get(question!.conversation_id)!.filter((row) => row.role === 'assistant');
            expect(replies, `${turn.content}: exactly one reply`).toHaveLength(1);
            const reply = replies[0]!;
            expect(reply.status).toBe('interrupted');
            expect(fullReply.startsWith(reply.content), `${turn.content}: the stored text is the reply's beginning`).toBe(true);
            // At most a checkpoint window (5 tokens at 20 ms) and what was in flight is lost.
            const lostTokens = tokenize(turn.received).length - tokenize(reply.content).length;
            expect(lostTokens, `${turn.content}: received ${tokenize(turn.received).length} tokens (${context})`).toBeLessThanOrEqual(12);
            expect(reply.completion_tokens).toBeGreaterThanOrEqual(tokenize(reply.content).length > 0 ? 1 : 0);
          }
          expect(turns).toHaveLength(rounds * turnsPerRound);
          expect(replyTokens.length).toBe(400);

          const totals = await reader.totals();
          const billed = rows.reduce((sum, row) => sum + (row.prompt_tokens ?? 0) + (row.completion_tokens ?? 0), 0);
          expect(totals.userTokens).toBe(billed);
          expect(totals.dailyTokens).toBe(billed);
          for (const [conversationId, messages] of byConversation) expect(totals.counts.get(conversationId)).toBe(messages.length);
          expect(await reader.corruption()).toEqual([]);
        } finally {
          await reader.close();
          await survivor.kill();
        }
      },
    );
  });
}

defineCrashSuite('crash durability on SQLite', async () => {
  const file = await temporarySqliteFile();
  return {
    env: { DATABASE_URL: `file:${file.path}` },
    reader: () => sqliteReader(file.path),
    drop: () => file.remove(),
  };
});

const postgresAvailable = await requireService('PostgreSQL', () => checkPostgres());

describe.skipIf(!postgresAvailable)('on Postgres', () => {
  defineCrashSuite('crash durability on Postgres', async () => {
    const name = `parley_crash_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const url = new URL(postgresUrl());
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString() },
      reader: () => postgresReader(url.toString()),
      // FORCE: a pool the killed processes left behind must not keep it alive.
      drop: () => adminQuery(`drop database if exists ${name} with (force)`),
    };
  });
});

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const messagesQuery = 'select conversation_id, role, status, content, prompt_tokens, completion_tokens from messages order by id';

function sqliteReader(path: string): StoreReader {
  const database = new Database(path, { readonly: true });
  const all = <T>(query: string) => database.prepare(query).all() as T[];
  return {
    messages: async () => all<StoredRow>(messagesQuery),
    totals: async () => ({
      userTokens: Number(all<{ total: number }>('select coalesce(sum(total_tokens), 0) as total from users')[0]!.total),
      dailyTokens: Number(all<{ total: number }>('select coalesce(sum(tokens), 0) as total from usage_days')[0]!.total),
      counts: new Map(
        all<{ id: string; message_count: number }>('select id, message_count from conversations').map((row) => [row.id, row.message_count]),
      ),
    }),
    corruption: async () =>
      all<{ integrity_check: string }>('pragma integrity_check')
        .map((row) => row.integrity_check)
        .filter((result) => result !== 'ok'),
    close: async () => {
      database.close();
    },
  };
}

function postgresReader(url: string): StoreReader {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const all = async <T>(query: string) => (await pool.query(query)).rows as T[];
  return {
    messages: () => all<StoredRow>(messagesQuery),
    totals: async () => ({
      userTokens: Number((await all<{ total: string }>('select coalesce(sum(total_tokens), 0) as total from users'))[0]!.total),
      dailyTokens: Number((await all<{ total: string }>('select coalesce(sum(tokens), 0) as total from usage_days'))[0]!.total),
      counts: new Map(
        (await all<{ id: string; message_count: number }>('select id, message_count from conversations')).map((row) => [
          row.id,
          row.message_count,
        ]),
      ),
    }),
    // Postgres keeps its own pages sound; what can break is ours: a message whose conversation is gone.
    corruption: async () =>
      (
        await all<{ id: string }>(
          'select m.id from messages m left join conversations c on c.id = m.conversation_id and c.user_id = m.user_id where c.id is null',
        )
      ).map((row) => `orphan message ${row.id}`),
    close: () => pool.end(),
  };
}
