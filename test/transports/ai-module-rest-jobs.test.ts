import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisTestPrefix, type RedisTestPrefix } from '../support/redis-test-prefix.js';
import { FakeUpstream, fakeEmbedding } from '../support/fake-upstream.js';
import { checkRedis, redisUrl, requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

/** The API's bodies are checked field by field in the tests, so they are read untyped. */
interface JsonResponse extends Response {
  json(): Promise<any>;
}

const redisAvailable = await requireService('Redis', () => checkRedis());

interface QueueKind {
  name: string;
  available: boolean;
  /** Extra environment, and the Redis keys to remove after, if any. */
  setUp(): { env: Record<string, string>; keys?: RedisTestPrefix };
}

const queueKinds: QueueKind[] = [
  { name: 'the in-process queue (no REDIS_URL)', available: true, setUp: () => ({ env: {} }) },
  {
    name: 'BullMQ on the real Redis (REDIS_URL)',
    available: redisAvailable,
    setUp: () => {
      const keys = redisTestPrefix();
      return { env: { REDIS_URL: redisUrl(), JOB_QUEUE_PREFIX: keys.prefix }, keys };
    },
  },
];

describe.each(queueKinds)("seed 001's background jobs on $name", ({ available, setUp }) => {
  let fake: FakeUpstream;
  let server: TestServer;
  let keys: RedisTestPrefix | undefined;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    if (!available) return;
    fake = await FakeUpstream.start();
    const setup = setUp();
    keys = setup.keys;
    server = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, ...setup.env },
    });
    aliceToken = await signToken('alice');
    bobToken = await signToken('bob');
  });
  afterEach(() => fake?.reset());
  afterAll(async () => {
    if (!available) return;
    await server.close();
    await fake.close();
    await keys?.remove();
  });

  function call(method: string, path: string, token: string, body?: unknown): Promise<JsonResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
    return fetch(`${server.url}/api/v1/ai${path}`, init) as Promise<JsonResponse>;
  }

  async function queue(path: string, token: string, body: unknown): Promise<string> {
    const response = await call('POST', path, token, body);
    expect(response.status).toBe(202);
    const queued = await response.json();
    expect(queued).toEqual({ jobId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
    expect(response.headers.get('location')).toBe(`/api/v1/ai/jobs/${queued.jobId}`);
    return queued.jobId;
  }

  async function finished(jobId: string, token = aliceToken): Promise<any> {
    const state = async () => (await (await call('GET', `/jobs/${jobId}`, token)).json()).state;
    await expect.poll(state, { timeout: 5_000, interval: 20 }).toMatch(/completed|failed/);
    return (await call('GET', `/jobs/${jobId}`, token)).json();
  }

  it.skipIf(!available)(
    'runs a queued completion to completed, reporting progress, and stores its turn in a new conversation',
    async () => {
      fake.behaviour.firstTokenDelayMs = 400;
      const jobId = await queue('/jobs/completions', aliceToken, { message: 'Summarise NestJS' });
      await expect
        .poll(async () => (await call('GET', `/jobs/${jobId}`, aliceToken)).json(), { timeout: 5_000, interval: 20 })
        .toMatchObject({ id: jobId, state: 'active', progress: 10, result: null });

      const job = await finished(jobId);
      // On BullMQ the job lives in Redis, under this run's prefix.
      if (keys !== undefined) expect(await keys.keys()).toContain(`${keys.prefix}:ai-tasks:${jobId}`);
      expect(Object.keys(job).sort()).toEqual(['createdAt', 'failedReason', 'finishedAt', 'id', 'kind', 'progress', 'result', 'state']);
      expect(job).toMatchObject({ id: jobId, kind: 'generate-completion', state: 'completed', progress: 100, failedReason: null });
      const { result } = job;
      expect(result).toMatchObject({ content: 'You said: Summarise NestJS', model: 'gpt-4', tokens: 6 });
      expect(Object.keys(result).sort()).toEqual(['content', 'conversationId', 'createdAt', 'messageId', 'model', 'tokens']);

      const conversation = await (await call('GET', `/conversations/${result.conversationId}`, aliceToken)).json();
      expect(conversation.title).toBe('Summarise NestJS');
      expect(conversation.messages).toEqual([
        expect.objectContaining({ role: 'USER', content: 'Summarise NestJS', tokens: null, model: null }),
        expect.objectContaining({ id: result.messageId, role: 'ASSISTANT', content: result.content, tokens: 6, model: 'gpt-4' }),
      ]);
    },
  );

  it.skipIf(!available)('runs many embedding jobs without gathering abort listeners on a signal they share', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      // Node warns at the 11th listener on one signal; the in-process queue hands every job the same one.
      for (let job = 0; job < 12; job++)
        expect((await finished(await queue('/jobs/embeddings', aliceToken, { text: `n${job}` }))).state).toBe('completed');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.includes('MaxListenersExceeded'))).toEqual([]);
  });

  it.skipIf(!available)('continues an existing conversation in a queued completion, with the history sent upstream', async () => {
    const created = await (await call('POST', '/conversations', aliceToken, { title: 'Queued chat' })).json();
    const first = await finished(await queue('/jobs/completions', aliceToken, { message: 'First', conversationId: created.id }));
    const second = await finished(
      await queue('/jobs/completions', aliceToken, { message: 'Second', conversationId: created.id, model: 'gpt-4o', maxTokens: 50 }),
    );
    expect(first.result.conversationId).toBe(created.id);
    expect(second.result).toMatchObject({ conversationId: created.id, model: 'gpt-4o', content: 'You said: Second' });
    const upstream = fake.requests.at(-1)!.body;
    expect(upstream).toMatchObject({ model: 'gpt-4o', max_tokens: 50 });
    expect(upstream.messages.map((message: { content: string }) => message.content)).toEqual(['First', 'You said: First', 'Second']);
  });

  it.skipIf(!available)('runs a queued embedding to completed with the embeddings response as its result', async () => {
    const job = await finished(await queue('/jobs/embeddings', aliceToken, { text: 'Vector me' }));
    expect(job).toMatchObject({ kind: 'generate-embeddings', state: 'completed', progress: 100, failedReason: null });
    expect(job.result).toEqual({ embedding: fakeEmbedding('Vector me'), model: 'text-embedding-3-small', tokens: 2 });
  });

  it.skipIf(!available)("fails a job with the error's message as failedReason", async () => {
    fake.failNext({ status: 401 });
    const job = await finished(await queue('/jobs/completions', aliceToken, { message: 'Doomed' }));
    expect(job).toMatchObject({ state: 'failed', progress: 10, result: null });
    expect(job.failedReason).toMatch(/OPENAI_API_KEY/);
  });

  it.skipIf(!available)("lists only the caller's jobs, newest first, and answers 404 for another user's job id", async () => {
    const carol = await signToken('carol');
    const older = await queue('/jobs/embeddings', carol, { text: 'one' });
    await finished(older, carol);
    const newer = await queue('/jobs/completions', carol, { message: 'two' });
    await finished(newer, carol);
    const bobsJob = await queue('/jobs/embeddings', bobToken, { text: 'bob only' });

    const listed = await (await call('GET', '/jobs', carol)).json();
    expect(listed.data.map((job: { id: string }) => job.id)).toEqual([newer, older]);
    expect(listed.data[1]).toMatchObject({ kind: 'generate-embeddings', state: 'completed' });

    for (const id of [bobsJob, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const response = await call('GET', `/jobs/${id}`, carol);
      expect(response.status).toBe(404);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'not_found', message: 'Job not found' } });
      expect(text).not.toContain('bob only');
    }
    expect((await finished(bobsJob, bobToken)).state).toBe('completed');
  });

  it.skipIf(!available)("refuses a completion job for another user's conversation at once with 404", async () => {
    const alices = await (await call('POST', '/conversations', aliceToken, { title: 'Mine' })).json();
    const response = await call('POST', '/jobs/completions', bobToken, { message: 'Sneak in', conversationId: alices.id });
    expect(response.status).toBe(404);
    expect((await (await call('GET', '/jobs', bobToken)).json()).data.every((job: any) => job.result?.conversationId !== alices.id)).toBe(
      true,
    );
  });
});
