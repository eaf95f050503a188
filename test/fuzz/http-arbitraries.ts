import fc from 'fast-check';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RegisteredRoute } from '../../src/http/route-table.js';
import type { RawRequest } from './fuzz-support.js';
import { valueTrees } from './value-trees.js';

/** Field names the routes read, plus the ones prototype pollution goes through. */
const fieldNames = [
  'model',
  'messages',
  'message',
  'content',
  'role',
  'session_id',
  'sessionId',
  'conversationId',
  'title',
  'mode',
  'system_prompt',
  'context_tags',
  'text',
  'input',
  'name',
  'stream',
  'stream_options',
  'include_usage',
  'max_tokens',
  'max_completion_tokens',
  'maxTokens',
  'temperature',
  'n',
  'userId',
  'prompt',
  'type',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];

/** Just past MAX_MESSAGE_CHARS, past a big context, and past BODY_LIMIT_BYTES. */
const hugeString = fc.constantFrom(32_001, 300_000, 1_100_000).map((length) => 'x'.repeat(length));

/** Ids that name something: filled in once the suite has created its records. */
export function jsonValues(existingIds: readonly string[]): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.constantFrom('hi', 'parley-demo', 'gpt-4o', 'demo/x', 'user', 'system', 'true', '') },
    { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2, 1e308, Number.MAX_SAFE_INTEGER + 2)) },
    { weight: 2, arbitrary: fc.oneof(fc.boolean(), fc.constant(null)) },
    { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom(...existingIds)) },
    { weight: 1, arbitrary: hugeString },
  );
  return valueTrees(leaf, fieldNames);
}

/** A body that looks like what the routes expect, with one part of it wrong or odd. */
function plausibleBodies(existingIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const anyValue = jsonValues(existingIds);
  const text = fc.oneof(fc.constantFrom('hello', ' ', ''), fc.string({ unit: 'binary', maxLength: 60 }), hugeString, anyValue);
  const messages = fc.oneof(
    fc.constant([{ role: 'user', content: 'hello' }]),
    fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant', 'tool', 'x'), content: text }), { maxLength: 4 }),
    anyValue,
  );
  return fc.record(
    {
      model: fc.oneof(fc.constantFrom('parley-demo', 'gpt-4o', 'claude-3-5-sonnet-latest', 'demo/parley-demo', ''), anyValue),
      messages,
      message: text,
      text,
      prompt: text,
      content: text,
      title: text,
      name: text,
      session_id: fc.oneof(fc.constantFrom(...existingIds), fc.uuid(), anyValue),
      sessionId: fc.oneof(fc.constantFrom(...existingIds), fc.uuid(), anyValue),
      conversationId: fc.oneof(fc.constantFrom(...existingIds), fc.uuid(), anyValue),
      stream: fc.oneof(fc.boolean(), anyValue),
      max_tokens: fc.oneof(fc.integer({ min: -2, max: 5 }), anyValue),
      maxTokens: fc.oneof(fc.integer({ min: -2, max: 5 }), anyValue),
      temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), anyValue),
      context_tags: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), anyValue),
    },
    { requiredKeys: [] },
  );
}

/** `depth` nested arrays or objects, as raw JSON text (built as text: JSON.stringify would overflow first). */
const deeplyNested = fc.tuple(fc.constantFrom(100, 5_000, 100_000), fc.boolean(), fc.boolean()).map(([depth, objects, wrapped]) => {
  const nested = objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
  return wrapped ? `{"message":"hi","messages":${nested},"model":${nested}}` : nested;
});

/** Bytes that are not UTF-8 (stray continuation bytes, overlong forms, surrogates, 0xFF), inside otherwise good JSON. */
const invalidUtf8 = fc
  .tuple(
    fc.constantFrom('message', 'messages', 'title', 'text', 'session_id', 'sessionId'),
    fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
    fc.uint8Array({ maxLength: 16 }),
  )
  .map(([field, bad, noise]) => Buffer.concat([Buffer.from(`{"${field}":"a`), Buffer.from(bad), Buffer.from(noise), Buffer.from('"}')]));

/** Mostly JSON, so most bodies reach validation and the handlers; the rest test content-type negotiation. */
const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 4, arbitrary: oddContentTypes() },
);

function oddContentTypes() {
  return fc.constantFrom(
    undefined,
    'APPLICATION/JSON',
    'application/json; charset=latin1',
    'application/merge-patch+json',
    'text/plain',
    'text/event-stream',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=fuzz',
    'application/octet-stream',
    'application/json, text/plain',
    '',
    ';',
  );
}

/** Anything the body may be, from valid JSON to bytes that are not text. */
export function bodies(existingIds: readonly string[]): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { weight: 5, arbitrary: plausibleBodies(existingIds).map((body) => Buffer.from(JSON.stringify(body))) },
    { weight: 3, arbitrary: jsonValues(existingIds).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}').map((text) => Buffer.from(text)),
    },
    { weight: 1, arbitrary: deeplyNested.map((text) => Buffer.from(text)) },
    { weight: 2, arbitrary: invalidUtf8 },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        Buffer.alloc(0),
        Buffer.from('{'),
        Buffer.from('null'),
        Buffer.from('"'),
        Buffer.from('{"message":"hi"'),
      ),
    },
  );
}

/** A path parameter as sent on the wire (already percent-encoded, or deliberately not). */
function pathParameters(existingIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...existingIds) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4',
        '%C0%AF',
        '%00',
        '%2F',
        '..',
        '%2e%2e',
        'a%20b',
        '~',
        '__proto__',
        'constructor',
        '0',
        '-1',
        'null',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(300, 3_000).map((length) => 'a'.repeat(length)) },
  );
}

const queryKeys = fc.oneof(
  fc.constantFrom('page', 'limit', 'stream', 'model', '__proto__', 'constructor', 'a[b]', 'page[]'),
  fc.string({ maxLength: 6 }),
);
const queryValues = fc.oneof(
  fc.constantFrom('1', '0', '-1', '100', '101', '1e309', 'NaN', 'true', 'false', '', '1.5', '0x10', '%', '%zz', '%E0%A4'),
  fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
);

/** `?…`: repeated keys, empty pairs, undecodable escapes. */
const queryStrings = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(queryKeys, queryValues), { maxLength: 5 })
    .map((pairs) => `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${value}`).join('&')}`),
  fc.constantFrom('?', '?&&&', '?==', '?page', '?stream=true&stream=false', '?limit=1&limit=2'),
);

const accepts = fc.constantFrom(
  undefined,
  'text/event-stream',
  'application/json',
  '*/*',
  'text/html',
  'application/json, text/event-stream',
);

/** Where a route's parameters and wildcard go in its URL. */
function pathOf(route: RegisteredRoute, parameters: string[]): string {
  let index = 0;
  const path = route.url.replace(/:[A-Za-z0-9_]+|\*/g, () => parameters[index++] ?? '');
  // `OPTIONS *` (CORS preflight for any path) is reached through a path like any other.
  return path.startsWith('/') ? path : `/${path}`;
}

/** How fast-check prints a case: a megabyte body as its size and first bytes. */
function described(request: RawRequest): RawRequest {
  return Object.assign(request, {
    [fc.toStringMethod]: () => {
      const body =
        request.body === undefined
          ? 'none'
          : `${request.body.length} bytes ${JSON.stringify(request.body.subarray(0, 120).toString('latin1'))}`;
      return `${request.method} ${request.path.slice(0, 300)} headers=${JSON.stringify(request.headers)} body=${body}`;
    },
  });
}

/** Requests to `route`, with `authorizations` to choose the Authorization header from. */
export function requestsFor(
  route: RegisteredRoute,
  existingIds: readonly string[],
  authorizations: fc.Arbitrary<string | undefined>,
): fc.Arbitrary<RawRequest> {
  const slots = route.parameters.length + (route.url.includes('*') ? 1 : 0);
  return fc
    .record({
      parameters: fc.array(pathParameters(existingIds), { minLength: slots, maxLength: slots }),
      query: queryStrings,
      body: bodies(existingIds),
      contentType: contentTypes,
      accept: accepts,
      authorization: authorizations,
      declareLength: fc.boolean(),
    })
    .map(({ parameters, query, body, contentType, accept, authorization, declareLength }) => {
      const headers: OutgoingHttpHeaders = {};
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (accept !== undefined) headers.accept = accept;
      if (authorization !== undefined) headers.authorization = authorization;
      // Without a length Node sends a POST's body chunked, but other methods' bodies unframed (garbage on the wire).
      if (body !== undefined && (declareLength || route.method !== 'POST')) headers['content-length'] = body.length;
      return described({ method: route.method, path: `${pathOf(route, parameters)}${query}`, headers, body });
    });
}
