import { readFile } from 'node:fs/promises';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { parseSamples, total, type Sample } from '../support/prometheus-samples.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const metricsToken = 'scrape-me-please';

/**
 * GET /metrics after real traffic on the HTTP and Socket.IO surfaces: the
 * series exist with the values the traffic implies (one TTFT observation per
 * turn, tokens equal to what the fake upstream reported and the store billed),
 * route templates rather than URLs, no per-user labels, and the token guard.
 */
describe('Prometheus metrics at GET /metrics', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let socket: Socket | undefined;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        PROVIDER_MAX_RETRIES: '1',
        PROVIDER_RETRY_BASE_DELAY_MS: '1',
        METRICS_TOKEN: metricsToken,
      },
    });
  });
  afterAll(async () => {
    socket?.disconnect();
    await server?.close();
    await fake?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parseSamples(await response.text());
  }

  it('refuses a scrape without the METRICS_TOKEN', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('counts turns, first tokens, durations and tokens of every surface, and open sockets', async () => {
    const completion = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count me in' }] };
    expect((await post('/v1/chat/completions', completion)).status).toBe(200);
    const streamed = await post('/v1/chat/completions', { ...completion, stream: true, stream_options: { include_usage: true } });
    await streamed.text();
    const anthropic = await post(
      '/v1/messages',
      { model: 'claude-3-5-sonnet-latest', max_tokens: 100, messages: [{ role: 'user', content: 'hello claude' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(anthropic.status).toBe(200);
    expect((await post('/api/v1/ai/chat', { message: 'seed one' })).status).toBe(200);
    const session = (await (await post('/api/v1/chat/sessions', {})).json()) as { id: string };
    expect((await post('/api/v1/chat/messages', { session_id: session.id, content: 'seed two' })).status).toBe(200);
    await (await post('/api/v2/ai/chat/stream', { message: 'seed three' })).text();

    socket = io(`${server.url}/ai`, { transports: ['websocket'] });
    const answered = new Promise((resolve) => socket!.once('ai_response', resolve));
    socket.emit('ai_request', { requestId: 'metrics-turn', prompt: 'seed zero' });
    await answered;
    const turnsRun = 7;

    // The seed 002 session is named by a model call after its first reply, off the turn's path.
    await expect.poll(async () => total(await scrape(), 'parley_model_calls_total', { purpose: 'title' }), { timeout: 5_000 }).toBe(1);
    const samples = await scrape();
    expect(total(samples, 'parley_turns_total', { status: 'complete' })).toBe(turnsRun);
    expect(total(samples, 'parley_turns_total', { surface: 'openai' })).toBe(2);
    expect(total(samples, 'parley_turns_total', { surface: 'anthropic' })).toBe(1);
    expect(total(samples, 'parley_turns_total', { surface: 'chat-sessions' })).toBe(1);
    expect(total(samples, 'parley_time_to_first_token_seconds_count')).toBe(turnsRun);
    expect(total(samples, 'parley_turn_duration_seconds_count')).toBe(turnsRun);
    expect(total(samples, 'parley_time_to_first_token_seconds_count', { provider: 'anthropic', model: 'claude-3-5-sonnet-latest' })).toBe(
      2,
    );
    expect(total(samples, 'parley_active_turns')).toBe(0);

    // The tokens are the ones the store billed, the title call's included: the fake upstream's usage (or the tokenizer's count when it sent none).
    const usage = (await (await fetch(`${server.url}/api/v1/ai/usage`)).json()) as { totalTokens: number };
    expect(total(samples, 'parley_tokens_total', { direction: 'input' })).toBeGreaterThan(0);
    expect(total(samples, 'parley_tokens_total', { direction: 'output' })).toBeGreaterThan(0);
    expect(total(samples, 'parley_tokens_total')).toBe(usage.totalTokens);

    expect(total(samples, 'parley_socket_connections', { namespace: '/ai' })).toBe(1);
    expect(total(samples, 'parley_http_requests_total', { route: '/api/v1/chat/messages', status: '200' })).toBe(1);
    expect(total(samples, 'parley_http_requests_total', { route: '/v1/chat/completions', method: 'POST' })).toBe(2);
    // Process metrics, event-loop lag included.
    expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(samples.some((sample) => sample.name === 'process_cpu_seconds_total')).toBe(true);
    // No label holds a user id or a URL with an id in it.
    for (const sample of samples) {
      expect(Object.keys(sample.labels)).not.toContain('user');
      expect(sample.labels.route ?? '').not.toContain(session.id);
    }
  });

  it('builds the shipped Grafana dashboard and the documented alerts on series this server exposes', async () => {
    // Every series the server declares (a counter nobody has moved yet has its TYPE line but no sample).
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
    const dashboard = JSON.parse(await readFile('deploy/grafana/parley-dashboard.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const alerts = await readFile('docs/operations.md', 'utf8');
    const expressions = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...[...alerts.matchAll(/expr: (.*)/g)].map((match) => match[1]!),
    ];
    expect(expressions.length).toBeGreaterThan(10);
    for (const expression of expressions) {
      for (const [name] of expression.matchAll(/\b(?:parley|nodejs|process)_[a-z0-9_]+/g)) {
        expect(exposed, `${name} in ${expression}`).toContain(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
  });

  it('counts refusals, provider failures, retries and breaker states', async () => {
    const before = await scrape();
    fake.failNext({ status: 500 }, { status: 500 });
    const failed = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail me' }] });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const refused = await post('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x'.repeat(200_000) }],
    });
    expect(refused.status).toBe(413);

    const after = await scrape();
    const grew = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
    expect(grew('parley_provider_retries_total', { provider: 'openai' })).toBe(1);
    expect(grew('parley_provider_errors_total', { provider: 'openai', code: 'provider_error' })).toBe(1);
    expect(grew('parley_turn_failures_total', { provider: 'openai', code: 'provider_error' })).toBe(1);
    expect(grew('parley_turns_total', { surface: 'openai', status: 'failed' })).toBe(1);
    expect(grew('parley_turn_refusals_total', { code: 'payload_too_large' })).toBe(1);
    expect(total(after, 'parley_provider_breaker_state', { provider: 'openai' })).toBe(0);
    expect(total(after, 'parley_http_requests_total', { route: '/v1/chat/completions', status: '413' })).toBe(1);
  });

  it('reports background jobs: the queue depth while one runs, and each run by kind and final status', async () => {
    const before = await scrape();
    const queue = async (path: string, body: unknown) => {
      const response = await post(`/api/v1/ai/jobs/${path}`, body);
      expect(response.status).toBe(202);
      return ((await response.json()) as { jobId: string }).jobId;
    };
    const finished = (jobId: string) =>
      expect
        .poll(async () => ((await (await fetch(`${server.url}/api/v1/ai/jobs/${jobId}`)).json()) as { state: string }).state, {
          timeout: 5_000,
          interval: 20,
        })
        .toMatch(/completed|failed/);
    const depth = (samples: Sample[], state: string) => total(samples, 'parley_job_queue_depth', { queue: 'ai-tasks', state });

    fake.behaviour.firstTokenDelayMs = 400;
    const slow = await queue('completions', { message: 'take your time' });
    await expect.poll(async () => depth(await scrape(), 'active'), { timeout: 5_000, interval: 20 }).toBe(1);
    await finished(slow);
    fake.behaviour.firstTokenDelayMs = 0;
    await finished(await queue('embeddings', { text: 'vector me' }));
    fake.failNext({ status: 500 }, { status: 500 });
    await finished(await queue('completions', { message: 'fail me' }));

    const after = await scrape();
    const grew = (labels: Record<string, string>) =>
      total(after, 'parley_job_duration_seconds_count', labels) - total(before, 'parley_job_duration_seconds_count', labels);
    expect(grew({ kind: 'generate-completion', status: 'completed' })).toBe(1);
    expect(grew({ kind: 'generate-embeddings', status: 'completed' })).toBe(1);
    expect(grew({ kind: 'generate-completion', status: 'failed' })).toBe(1);
    // The slow completion waited on its first token for 400 ms: its duration is in the buckets above that.
    const slowBucket = (samples: Sample[]) =>
      total(samples, 'parley_job_duration_seconds_bucket', { kind: 'generate-completion', status: 'completed', le: '0.25' });
    expect(slowBucket(after) - slowBucket(before)).toBe(0);
    expect([depth(after, 'waiting'), depth(after, 'active')]).toEqual([0, 0]);
  });
});
