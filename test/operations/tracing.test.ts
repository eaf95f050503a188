import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** One span as an OTLP/HTTP JSON export carries it, its attributes flattened. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  serviceName: unknown;
}

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values: OtlpValue[] };
};
type OtlpAttribute = { key: string; value: OtlpValue };

function valueOf(value: OtlpValue): unknown {
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(valueOf);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

function attributesOf(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

/** Ids are hex in OTLP/JSON; tolerate base64 too. */
function hexId(id: string | undefined): string {
  if (id === undefined || id === '') return '';
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex');
}

/** A stand-in for an OpenTelemetry collector: an OTLP/HTTP receiver on loopback keeping every span it is sent. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receiver.contentTypes.add(String(request.headers['content-type']));
        if (request.method === 'POST' && request.url === '/v1/traces') receiver.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private accept(body: any): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name'];
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            traceId: hexId(span.traceId),
            spanId: hexId(span.spanId),
            parentSpanId: hexId(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            events: (span.events ?? []).map((event: any) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
            serviceName,
          });
        }
      }
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

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
