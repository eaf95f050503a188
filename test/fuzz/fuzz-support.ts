import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { errorCodes } from '../../src/core/errors.js';

/** FUZZ_SEED replays a run; without it every run uses the same cases. */
export function fixedSeed(): number {
  const value = Number(process.env.FUZZ_SEED);
  return Number.isInteger(value) ? value : 20_240_512;
}

/** A seed of its own each run, printed by fast-check (and by the test) when a case fails. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

export interface RawRequest {
  method: string;
  /** Path and query, sent as they are (no encoding). */
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request on a fresh connection, read to its end. Fails after
 * `timeoutMs`, so a server that never answers (or never ends a stream) is a
 * failure, not a hung test.
 */
export function rawRequest(baseUrl: string, request: RawRequest, timeoutMs = 5_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      host: url.hostname,
      port: url.port,
      method: request.method,
      path: request.path,
      headers: request.headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms: ${request.method} ${request.path.slice(0, 200)}`));
    }, timeoutMs);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.end(request.body);
  });
}

const knownCodes = new Set<string>(errorCodes);

/** Anthropic's error types (https://docs.anthropic.com/en/api/errors). */
const anthropicErrorTypes = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
]);

/** Which error shape a route answers with. */
export type ErrorShape = 'parley' | 'openai' | 'anthropic';

export function errorShapeOf(url: string): ErrorShape {
  if (url === '/v1/messages') return 'anthropic';
  return url.startsWith('/v1/') ? 'openai' : 'parley';
}

/**
 * Why a refusal is not a well-formed error of its surface, or undefined when
 * it is: JSON `{ error: { code, message } }` with a catalogued code, on the
 * OpenAI-compatible API also OpenAI's `type` and `param`, on the Anthropic
 * Messages API `{ type: 'error', error: { type, message } }`.
 */
export function malformedRefusal(response: RawResponse, shape: ErrorShape): string | undefined {
  const type = response.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return `content-type ${type}`;
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return `not JSON: ${response.body.toString('utf8').slice(0, 200)}`;
  }
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (typeof error !== 'object' || error === null) return `no error object: ${JSON.stringify(body).slice(0, 200)}`;
  if (shape === 'anthropic') {
    if ((body as { type?: unknown }).type !== 'error' || !anthropicErrorTypes.has(String(error.type))) {
      return `not Anthropic's shape: ${JSON.stringify(body).slice(0, 200)}`;
    }
    return typeof error.message === 'string' && error.message !== '' ? undefined : 'no message';
  }
  if (typeof error.code !== 'string' || !knownCodes.has(error.code)) return `unknown code ${String(error.code)}`;
  if (typeof error.message !== 'string' || error.message === '') return 'no message';
  if (shape === 'openai' && (typeof error.type !== 'string' || !('param' in error))) return `not OpenAI's shape: ${JSON.stringify(error)}`;
  return undefined;
}

/** Collects unhandled rejections and process warnings while a suite runs. */
export class ProcessTroubles {
  readonly seen: string[] = [];
  private readonly onRejection = (reason: unknown) => this.seen.push(`unhandledRejection: ${describe(reason)}`);
  private readonly onWarning = (warning: Error) => this.seen.push(`warning: ${warning.name}: ${warning.message}`);

  start(): void {
    process.on('unhandledRejection', this.onRejection);
    process.on('warning', this.onWarning);
  }

  stop(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('warning', this.onWarning);
  }
}

function describe(reason: unknown): string {
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
}
