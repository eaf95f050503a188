import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Responses made by a NodeHttpFetch, with the Node stream their body comes from. */
const nodeBodies = new WeakMap<Response, IncomingMessage>();

/**
 * The body of a response from a NodeHttpFetch as the Node stream it arrives
 * on, so a streamed reply can be read without web streams; undefined for
 * any other response.
 */
export function nodeBodyOf(response: Response): IncomingMessage | undefined {
  return nodeBodies.get(response);
}

/** Statuses whose Response may not have a body. */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for the official provider clients, on node:http(s) with
 * keep-alive agents. Undici's fetch hands the body over as a web
 * ReadableStream: a promise, a queue and a Uint8Array copy per network read,
 * plus a transferable AbortSignal per request, which profiles showed as the
 * largest per-token cost of relaying a stream. Here the body stays the
 * IncomingMessage (see nodeBodyOf); the Response's own body is a web stream
 * made only if something reads it (the clients do, for error responses).
 * Bodies other than strings and bytes (uploads) go to the global fetch.
 */
export function createNodeHttpFetch(): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  return (input, init) => {
    const body = init?.body;
    const url = new URL(input instanceof Request ? input.url : String(input));
    const sendable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !sendable || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    return send(url, init ?? {}, body ?? undefined, agents);
  };
}

function send(
  url: URL,
  init: RequestInit,
  body: string | Uint8Array | undefined,
  agents: { 'http:': HttpAgent; 'https:': HttpsAgent },
): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const request = (https ? httpsRequest : httpRequest)(url, {
      method: init.method ?? 'GET',
      headers: toNodeHeaders(init.headers),
      agent: https ? agents['https:'] : agents['http:'],
    });
    let incoming: IncomingMessage | undefined;
    const onAbort = () => {
      const reason = signal!.reason;
      request.destroy(reason);
      incoming?.destroy(reason);
      reject(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    request.once('response', (response) => {
      incoming = response;
      response.once('close', () => signal?.removeEventListener('abort', onAbort));
      const status = response.statusCode ?? 502;
      const result = new Response(nullBodyStatuses.has(status) ? null : lazyWebBody(response), {
        status,
        statusText: response.statusMessage ?? '',
        headers: toFetchHeaders(response.rawHeaders),
      });
      nodeBodies.set(result, response);
      resolve(result);
    });
    request.end(body);
  });
}

function toNodeHeaders(headers: RequestInit['headers']): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  if (headers === undefined) return result;
  if (headers instanceof Headers || Array.isArray(headers)) {
    for (const [name, value] of headers instanceof Headers ? headers.entries() : headers) result[name!.toLowerCase()] = value!;
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, string>)) result[name.toLowerCase()] = value;
  }
  return result;
}

function toFetchHeaders(rawHeaders: string[]): Headers {
  const headers = new Headers();
  for (let index = 0; index < rawHeaders.length; index += 2) headers.append(rawHeaders[index]!, rawHeaders[index + 1]!);
  return headers;
}

/** A web stream over the IncomingMessage that starts reading it only when first pulled. */
function lazyWebBody(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (Readable.toWeb(incoming) as ReadableStream<Uint8Array>).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        if (reader === undefined) incoming.destroy();
        else await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
