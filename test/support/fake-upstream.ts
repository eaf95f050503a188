/**
 * A real loopback HTTP server that speaks the OpenAI and Anthropic wire
 * formats, so Parley's provider adapters (official SDK clients, SSE parsing)
 * run for real against it in tests and benchmarks.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicErrorBody, anthropicRoutes } from './fake-anthropic.js';
import { Exchange } from './fake-exchange.js';
import { openaiError, openaiErrorBody, openaiRoutes } from './fake-openai.js';
import { defaultReply } from './fake-tools.js';

export { tokenize } from './fake-text.js';
export { EMBEDDING_DIMENSIONS, fakeEmbedding } from './fake-openai.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /**
   * The parsed JSON body; for multipart/form-data, its fields by name, a file
   * as `{ name, type, size, bytes }`; the raw text when it is neither; undefined when empty.
   */
  body: any;
  /** The body's bytes as they arrived. */
  raw: Buffer;
  /** true when the client closed the connection before the response finished */
  aborted: boolean;
}

export interface Fault {
  status: number;
  /** Default: the provider's own error JSON for `status`. A string is sent as-is, as text. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Behaviour {
  /** The reply text; default: `You said: ${text of the last user message}`, or `The tool said: ${result}` after a tool's result */
  reply: string | ((body: any) => string);
  /** ms before the first token (after headers are sent) */
  firstTokenDelayMs: number;
  /** ms between tokens */
  tokenDelayMs: number;
  /** destroy the socket after writing this many tokens (simulates a provider dying mid-stream) */
  dropAfterTokens?: number;
  /**
   * After this many tokens, write `raw` and end the response cleanly without the provider's closing events:
   * `raw: 'data: {not json\n\n'` is a garbled stream, `raw: ''` a truncated one.
   */
  breakAfterTokens?: { tokens: number; raw: string };
  /** include usage in responses (OpenAI: only when stream_options.include_usage for streams, always for non-stream) */
  usage: boolean;
  /** delay before sending response headers, ms */
  headersDelayMs: number;
  /** The text POST /v1/audio/transcriptions hears in any audio. */
  transcript: string;
  /** The audio/mpeg bytes POST /v1/audio/speech answers (not a real MP3). */
  speech: Buffer;
}

export function defaultBehaviour(): Behaviour {
  return {
    reply: defaultReply,
    firstTokenDelayMs: 0,
    tokenDelayMs: 0,
    usage: true,
    headersDelayMs: 0,
    transcript: 'hello from the fake whisper',
    speech: Buffer.from('ID3fake-mp3'),
  };
}

interface Route {
  handle(ex: Exchange): void;
  /** The provider's error body for a fault that brings none. */
  errorBody(status: number): unknown;
}

const ROUTES = new Map<string, Route>([
  ...Object.entries(openaiRoutes).map(([key, handle]): [string, Route] => [key, { handle, errorBody: openaiErrorBody }]),
  ...Object.entries(anthropicRoutes).map(([key, handle]): [string, Route] => [key, { handle, errorBody: anthropicErrorBody }]),
]);

interface AbortWaiter {
  count: number;
  resolve(): void;
}

export class FakeUpstream {
  readonly url: string;
  readonly openaiBaseUrl: string;
  readonly anthropicBaseUrl: string;
  behaviour: Behaviour;
  readonly requests: RecordedRequest[] = [];
  #server: Server;
  #faults: Fault[] = [];
  #waiters = new Set<AbortWaiter>();
  #open = 0;
  #connections = 0;

  private constructor(server: Server, behaviour: Partial<Behaviour>) {
    const { port } = server.address() as AddressInfo;
    this.#server = server;
    this.url = `http://127.0.0.1:${port}`;
    this.openaiBaseUrl = `${this.url}/v1`;
    this.anthropicBaseUrl = this.url;
    this.behaviour = { ...defaultBehaviour(), ...behaviour };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#accept(req, res));
    server.on('connection', () => this.#connections++);
  }

  static async start(behaviour: Partial<Behaviour> = {}): Promise<FakeUpstream> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return new FakeUpstream(server, behaviour);
  }

  get abortedCount(): number {
    return this.requests.filter((request) => request.aborted).length;
  }

  /** TCP connections accepted since the server started (keep-alive reuse keeps it low). */
  get connectionCount(): number {
    return this.#connections;
  }

  /** Number of requests currently open. */
  get openRequests(): number {
    return this.#open;
  }

  /** Queue faults: the next POST requests to a known endpoint answer with these instead of being handled, in order. */
  failNext(...faults: Fault[]): void {
    this.#faults.push(...faults);
  }

  /** Resolves when `count` requests have been aborted by the client; rejects after `timeoutMs`. */
  waitForAborts(count = 1, timeoutMs = 2000): Promise<void> {
    if (this.abortedCount >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`expected ${count} aborted request(s) within ${timeoutMs}ms, saw ${this.abortedCount}`));
      }, timeoutMs);
      const waiter: AbortWaiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Clears requests and faults and restores the default behaviour. */
  reset(): void {
    this.requests.length = 0;
    this.#faults.length = 0;
    this.behaviour = defaultBehaviour();
  }

  /** Stops the server, cutting every open connection (which also stops any stream's timers). */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      this.#server.closeAllConnections();
    });
  }

  #accept(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path, headers: req.headers, body: undefined, raw: Buffer.alloc(0), aborted: false };
    const ex = new Exchange(req, res, this.behaviour);
    this.requests.push(record);
    this.#open++;
    res.once('close', () => {
      this.#open--;
      // A close before end() means the client went away; our own drop is not the client's doing.
      if (!res.writableEnded && !ex.dropped) this.#recordAbort(record);
    });
    // An aborted upload errors the request stream; the 'close' above already accounts for it.
    req.on('error', () => {});
    readBody(req, (raw) => {
      record.raw = raw;
      const handle = (body: unknown) => {
        record.body = ex.body = body;
        ex.after(ex.behaviour.headersDelayMs, () => this.#dispatch(ex, `${method} ${path}`));
      };
      // Only uploads take the asynchronous parse; JSON stays synchronous, as benchmarks drive this fake too.
      const contentType = req.headers['content-type'];
      if (raw.length > 0 && contentType?.startsWith('multipart/form-data')) void parseForm(raw, contentType).then(handle);
      else handle(parseBody(raw));
    });
  }

  #dispatch(ex: Exchange, key: string): void {
    const route = ROUTES.get(key);
    if (route === undefined) return ex.send(404, openaiError(`Invalid URL (${key})`));
    const fault = key.startsWith('POST ') ? this.#faults.shift() : undefined;
    if (fault === undefined) return route.handle(ex);
    ex.send(fault.status, fault.body === undefined ? route.errorBody(fault.status) : fault.body, fault.headers);
  }

  #recordAbort(record: RecordedRequest): void {
    record.aborted = true;
    const aborted = this.abortedCount;
    for (const waiter of this.#waiters) {
      if (aborted < waiter.count) continue;
      this.#waiters.delete(waiter);
      waiter.resolve();
    }
  }
}

/** Reads the whole body and hands over its bytes. */
function readBody(req: IncomingMessage, done: (raw: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => done(Buffer.concat(chunks)));
}

/** The parsed JSON, the raw text if it is not JSON, or undefined if empty. */
function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface UploadedFile {
  name: string;
  type: string;
  size: number;
  bytes: Buffer;
}

/** A multipart form's fields, parsed by the WHATWG Request built into Node; the raw text if it is malformed. */
async function parseForm(raw: Buffer, contentType: string): Promise<Record<string, string | UploadedFile> | string> {
  let form: FormData;
  try {
    form = await new Request('http://fake-upstream.invalid', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
  } catch {
    return raw.toString('utf8');
  }
  const fields: Record<string, string | UploadedFile> = {};
  for (const [name, value] of form) {
    fields[name] =
      typeof value === 'string'
        ? value
        : { name: value.name, type: value.type, size: value.size, bytes: Buffer.from(await value.arrayBuffer()) };
  }
  return fields;
}
