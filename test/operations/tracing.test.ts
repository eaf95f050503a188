import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const randomHex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');

/**
 * Traces sent to a real OTLP/HTTP endpoint (a receiver in the test), as a
 * collector gets them: a turn's span tree under the caller's traceparent,
 * with the GenAI semantic-convention attributes, its store writes and its
 * provider request (retries as events), and the response's traceparent.
 */
describe('OpenTelemetry traces with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let receiver: OtlpReceiver;
  let fake: FakeUpstream;
  let server: TestServer;
  let socket: Socket | undefined;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        PROVIDER_MAX_RETRIES: '1',
        PROVIDER_RETRY_BASE_DELAY_MS: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'parley-under-test',
      },
    });
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    socket?.disconnect();
    await server?.close();
    await fake?.close();
    await receiver?.close();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);

  it("puts a turn's spans under the caller's traceparent, with GenAI attributes, and answers with its own traceparent", async () => {
    const traceId = randomHex(16);
    const callerSpanId = randomHex(8);
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'trace me' }], stream: true }),
    });
    await response.text();
    const answered = response.headers.get('traceparent');
    expect(answered).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    await expect.poll(() => spansOf(traceId).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(5);
    const spans = spansOf(traceId);
    const serverSpan = spans.find((span) => span.name === 'POST /v1/chat/completions')!;
    expect(serverSpan).toMatchObject({ parentSpanId: callerSpanId, serviceName: 'parley-under-test' });
    expect(answered).toContain(serverSpan.spanId);
    expect(serverSpan.attributes).toMatchObject({ 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 });

    const turnSpan = spans.find((span) => span.parentSpanId === serverSpan.spanId && span.name === 'chat gpt-4o-mini')!;
    expect(turnSpan.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.finish_reasons': ['stop'],
      'parley.surface': 'openai',
    });
    expect(turnSpan.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(turnSpan.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

    const children = spans.filter((span) => span.parentSpanId === turnSpan.spanId);
    expect(children.map((span) => span.name).sort()).toEqual(['chat gpt-4o-mini', 'parley.store.begin_turn', 'parley.store.finish_turn']);
    const providerSpan = children.find((span) => span.name === 'chat gpt-4o-mini')!;
    expect(providerSpan.kind).toBe(3); // CLIENT
    expect(providerSpan.events.map((event) => event.name)).toEqual(['gen_ai.first_token']);
    expect(receiver.contentTypes).toContain('application/json');
  });

  it('records a retry before the first token as an event of the provider request, and a failed turn as an error', async () => {
    const traceId = randomHex(16);
    fake.failNext({ status: 500 });
    const retried = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomHex(8)}-01` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'retry me' }] }),
    });
    expect(retried.status).toBe(200);
    await expect.poll(() => spansOf(traceId).some((span) => span.kind === 3), { timeout: 5_000 }).toBe(true);
    const providerSpan = spansOf(traceId).find((span) => span.kind === 3)!;
    expect(providerSpan.events.map((event) => event.name)).toEqual(['retry', 'gen_ai.first_token']);
    expect(providerSpan.events[0]!.attributes).toEqual({ attempt: 1 });

    const failedTrace = randomHex(16);
    fake.failNext({ status: 500 }, { status: 500 });
    const failed = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${failedTrace}-${randomHex(8)}-01` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail me' }] }),
    });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    await expect
      .poll(() => spansOf(failedTrace).some((span) => span.attributes['parley.turn.status'] === 'failed'), { timeout: 5_000 })
      .toBe(true);
    const turnSpan = spansOf(failedTrace).find((span) => span.attributes['parley.turn.status'] === 'failed')!;
    expect(turnSpan.attributes['error.type']).toBe('provider_error');
  });

  it('traces a Socket.IO turn as a trace of its own', async () => {
    const before = new Set(receiver.spans.map((span) => span.traceId));
    socket = io(`${server.url}/ai`, { transports: ['websocket'] });
    const answered = new Promise((resolve) => socket!.once('ai_response', resolve));
    socket.emit('ai_request', { requestId: 'traced', prompt: 'a socket turn' });
    await answered;
    await expect
      .poll(() => receiver.spans.some((span) => !before.has(span.traceId) && span.attributes['parley.surface'] === 'assistant'), {
        timeout: 5_000,
      })
      .toBe(true);
    const turnSpan = receiver.spans.find((span) => !before.has(span.traceId) && span.attributes['parley.surface'] === 'assistant')!;
    expect(turnSpan.parentSpanId).toBe('');
    expect(spansOf(turnSpan.traceId).filter((span) => span.parentSpanId === turnSpan.spanId)).toHaveLength(3);
  });
});
