import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuttableRelay } from '../support/cuttable-relay.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { checkPostgres, createPostgresSchema, postgresUrl, requireService, type TemporaryPostgresSchema } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const postgresAvailable = await requireService('Postgres', () => checkPostgres());

/**
 * Postgres going away under a running server, through a relay the test cuts
 * and restores (the machine's Postgres itself is shared, so it is never
 * stopped): every surface answers 503 store_unavailable, a stream in flight
 * ends with its surface's error event, its reply is stored once Postgres is
 * back, and Parley serves again without a restart.
 */
describe.skipIf(!postgresAvailable)('a Postgres outage', () => {
  let fake: FakeUpstream;
  let relay: CuttableRelay;
  let schema: TemporaryPostgresSchema;
  let server: TestServer;
  let inspection: pg.Client;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    const direct = new URL(postgresUrl());
    relay = await CuttableRelay.start({ host: direct.hostname, port: Number(direct.port || 5432) });
    const relayed = new URL(postgresUrl());
    relayed.port = String(relay.port);
    schema = await createPostgresSchema();
    server = await startTestServer({
      postgres: { url: relayed.href, schema: schema.schema },
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, DATABASE_TIMEOUT_MS: '1000' },
    });
    inspection = new pg.Client({ connectionString: postgresUrl(), options: `-c search_path=${schema.schema}` });
    await inspection.connect();
  });

  afterAll(async () => {
    relay?.restore();
    await server?.close();
    await inspection?.end();
    await relay?.close();
    await schema?.drop();
    await fake?.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const completion = (stream: boolean) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], stream });

  async function expectUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.text()).toContain('"code":"store_unavailable"');
  }

  it('answers 503 store_unavailable on every surface while Postgres is unreachable', async () => {
    relay.cut();
    await expectUnavailable(await post('/api/v1/ai/chat', { message: 'hello' }));
    await expectUnavailable(await post('/v1/chat/completions', completion(false)));
    await expectUnavailable(await post('/v1/chat/completions', completion(true)));
    await expectUnavailable(await fetch(`${server.url}/api/v1/ai/conversations`));
    await expectUnavailable(await post('/api/v1/chat/sessions', { title: 'x' }));
    const sse = await post('/api/v2/ai/chat/stream', { message: 'hello' });
    expect(await sse.text()).toContain('"code":"store_unavailable"');
    expect(await socketFailure()).toMatchObject({ code: 'store_unavailable' });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unavailable', database: 'postgres' });
  });

  it('serves again once Postgres is back, without a restart', async () => {
    relay.restore();
    const response = await post('/api/v1/ai/chat', { message: 'back again' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { content: string }).content).toBe('You said: back again');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('answers 503 after DATABASE_TIMEOUT_MS, not never, while Postgres hangs', async () => {
    expect((await post('/api/v1/ai/chat', { message: 'warm the pool' })).status).toBe(200);
    // The pool's open connections now go unanswered, as with a hung server or a silent network.
    relay.stall();
    const started = Date.now();
    await expectUnavailable(await post('/api/v1/ai/chat', { message: 'hello' }));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(5_000);
    relay.resume();
    relay.cut();
    relay.restore();
    expect((await post('/api/v1/ai/chat', { message: 'after the hang' })).status).toBe(200);
  });

  it('ends a stream in flight with an error event and stores its reply once Postgres is back', async () => {
    const reply = Array.from({ length: 30 }, (_, index) => `word${index}`).join(' ');
    fake.behaviour.reply = reply;
    fake.behaviour.tokenDelayMs = 20;
    try {
      const response = await post('/v1/chat/completions', completion(true));
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      let streamed = new TextDecoder().decode((await reader.read()).value);
      relay.cut();
      for (let read = await reader.read(); !read.done; read = await reader.read()) streamed += new TextDecoder().decode(read.value);
      expect(streamed).toContain('"code":"store_unavailable"');
      expect(streamed).not.toContain('[DONE]');
    } finally {
      fake.behaviour.tokenDelayMs = 0;
      relay.restore();
    }
    // The ending the store refused is written again until it takes it: complete, the whole text, billed once.
    const stored = await eventually(async () => {
      const { rows } = await inspection.query<{ status: string; content: string }>(
        `select status, content from messages where role = 'assistant' and content like 'word0%'`,
      );
      return rows.length === 1 && rows[0]!.status !== 'in_progress' ? rows : undefined;
    });
    expect(stored).toEqual([{ status: 'complete', content: reply }]);
    const { rows } = await inspection.query(`select count(*)::int as open from messages where status = 'in_progress'`);
    expect(rows).toEqual([{ open: 0 }]);
  });

  /** Seed 000's ai_request on /ai while the database is away: the ai_error it gets. */
  async function socketFailure(): Promise<unknown> {
    const socket: Socket = io(`${server.url}/ai`, { forceNew: true, transports: ['websocket'], reconnection: false });
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ai_error')), 5_000);
        socket.on('ai_error', (payload: unknown) => {
          clearTimeout(timer);
          resolve(payload);
        });
        socket.emit('ai_request', { requestId: 'r1', prompt: 'hello', stream: true });
      });
    } finally {
      socket.close();
    }
  }
});

async function eventually<Value>(read: () => Promise<Value | undefined>, timeoutMs = 5_000): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
