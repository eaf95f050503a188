import fc from 'fast-check';
import { valueTrees } from './value-trees.js';

/** What one generated case emits: the event's arguments, and whether an acknowledgement callback follows them. */
export interface Emission {
  args: unknown[];
  ack: boolean;
}

/** What the generated values are measured against, from the servers' own configuration. */
export interface PayloadSizes {
  /** MAX_MESSAGE_CHARS. */
  maxMessageChars: number;
  /** maxHttpBufferSize: the largest WebSocket frame the server reads. */
  maxFrameBytes: number;
}

/** Values the generated payloads draw names from: records the suite created, and tokens. */
export interface PayloadVocabulary {
  /** Ids of records that exist (sessions, conversations, some of another user), for an event's idField and the others. */
  existingIds: readonly string[];
  /** Values for a `token` field: valid, expired, garbage, null. */
  tokens: readonly (string | null)[];
}

/** Fields the socket surfaces read, plus the names prototype pollution goes through. */
const fieldNames = [
  'message',
  'text',
  'prompt',
  'sessionId',
  'conversationId',
  'requestId',
  'token',
  'userId',
  'model',
  'stream',
  'maxTokens',
  'temperature',
  'audio',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/** Strings that are not well-formed UTF-16: JSON.stringify escapes them, a server that decoded them naively would not. */
const loneSurrogates = fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ud83d\ud83d', 'x\udbff\udfffy\ud800');

/** Bytes that are not UTF-8 (stray continuation bytes, overlong forms, encoded surrogates, 0xFF). */
const invalidUtf8 = fc
  .tuple(
    fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
    fc.uint8Array({ maxLength: 16 }),
  )
  .map(([bad, noise]) => Buffer.concat([Buffer.from('a'), Buffer.from(bad), Buffer.from(noise)]));

/** Binary arguments: each becomes a frame of its own (a Socket.IO attachment). */
function binaries(sizes: PayloadSizes): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 2, arbitrary: invalidUtf8 },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((bytes) => bytes.buffer) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    // One frame just under the limit and one just over it.
    { weight: 1, arbitrary: fc.constantFrom(sizes.maxFrameBytes - 64, sizes.maxFrameBytes + 1).map((size) => Buffer.alloc(size, 7)) },
  );
}

/**
 * Strings past MAX_MESSAGE_CHARS, and near maxHttpBufferSize counted in
 * bytes on the wire: two-byte characters, and characters JSON escapes to six
 * bytes, put frames over the limit with far fewer characters.
 */
function hugeStrings(sizes: PayloadSizes): fc.Arbitrary<string> {
  const { maxMessageChars, maxFrameBytes } = sizes;
  const withinTheFrameLimit = fc.constantFrom(maxMessageChars + 1, 300_000, maxFrameBytes - 200).map((length) => 'x'.repeat(length));
  const overTheFrameLimit = fc.oneof(
    fc.constant('x'.repeat(maxFrameBytes + 1)),
    fc.constant('é'.repeat(Math.ceil(maxFrameBytes / 2) + 100)),
    fc.constantFrom('\ud800', '\u0001').map((character) => character.repeat(Math.ceil(maxFrameBytes / 6) + 100)),
  );
  // Mostly within: a closed connection ends a case early, and the handlers' own length checks are worth more cases.
  return fc.oneof({ weight: 3, arbitrary: withinTheFrameLimit }, { weight: 1, arbitrary: overTheFrameLimit });
}

/** Deeply nested values by what they are, so a failing case prints as its depth rather than overflowing the printer. */
const nestedDescriptions = new WeakMap<object, string>();

/**
 * `depth` nested arrays or objects, built without recursion. The client
 * encodes a packet recursively on the test's already deep stack, so a few
 * thousand levels overflow there first; this stays below that.
 */
const deeplyNested = fc.tuple(fc.constantFrom(64, 1_000), fc.boolean()).map(([depth, objects]) => {
  let value: object = objects ? { message: 'hi' } : [];
  for (let level = 0; level < depth; level++) value = objects ? { message: value } : [value];
  nestedDescriptions.set(value, `<${objects ? 'objects' : 'arrays'} nested ${depth} deep>`);
  return value;
});

/** Own `__proto__` and `constructor` keys, as JSON.parse makes them (an object literal would set the prototype instead). */
const pollution = fc
  .constantFrom(
    '{"__proto__":{"message":"polluted","isAdmin":true}}',
    '{"message":"hi","__proto__":{"text":"polluted"},"constructor":{"prototype":{"polluted":true}}}',
    '{"constructor":{"prototype":{"message":"polluted"}}}',
    '{"prompt":"hi","requestId":"r","__proto__":null}',
    '{"toString":"x","valueOf":1,"hasOwnProperty":null,"message":"hi"}',
  )
  .map((text) => JSON.parse(text) as unknown);

/** Any JSON-able value, with leaves from the vocabulary and, rarely, a huge string or a binary part. */
export function anyValues(vocabulary: PayloadVocabulary, sizes: PayloadSizes): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.constantFrom('hi', 'hello', ' ', '', 'parley-demo', 'demo/x', 'gpt-4o', 'user', 'true', 'null') },
    { weight: 1, arbitrary: loneSurrogates },
    { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 1, 2, 1e308, Number.MAX_SAFE_INTEGER + 2)) },
    { weight: 2, arbitrary: fc.constantFrom(true, false, null, undefined) },
    { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom(...vocabulary.existingIds), fc.constant('i'.repeat(201))) },
    { weight: 1, arbitrary: binaries(sizes) },
  );
  return valueTrees(leaf, fieldNames);
}

/**
 * A payload that looks like what the events expect, with parts wrong or
 * odd: text fields of every kind, ids of records that exist and of ones that
 * do not (mostly in the event's own idField), tokens good and bad.
 */
function plausiblePayloads(vocabulary: PayloadVocabulary, sizes: PayloadSizes, idField: string | undefined): fc.Arbitrary<unknown> {
  const odd = anyValues(vocabulary, sizes);
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('hello', 'What can you do?') },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom('', ' ', '\n\t'), fc.string({ unit: 'binary', maxLength: 60 }), loneSurrogates) },
    { weight: 1, arbitrary: hugeStrings(sizes) },
    { weight: 1, arbitrary: odd },
  );
  const id = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...vocabulary.existingIds) },
    { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom('', 'missing', 'i'.repeat(200), 'i'.repeat(201))) },
    { weight: 1, arbitrary: odd },
  );
  const token = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...vocabulary.tokens) }, { weight: 1, arbitrary: odd });
  // Every field the surfaces read, each present or not, each right or wrong.
  const anyFields = fc.record(
    {
      message: text,
      text,
      prompt: text,
      sessionId: id,
      conversationId: id,
      requestId: fc.oneof(fc.uuid(), fc.integer(), fc.constantFrom('', 'r'.repeat(201)), odd),
      token,
      userId: fc.oneof(fc.constantFrom('fuzzer', 'someone-else', '', 42), odd),
      model: fc.oneof(fc.constantFrom('parley-demo', 'demo/parley-demo', 'no-such-model', ''), odd),
      stream: fc.oneof(fc.boolean(), odd),
      maxTokens: fc.oneof(fc.integer({ min: -2, max: 50 }), fc.constantFrom(1.5, 1e9), odd),
      temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), odd),
    },
    { requiredKeys: [] },
  );
  // What a well-behaved client sends, but for one field: most of these reach the handlers past validation.
  const oneFieldOff = fc
    .tuple(
      fc.record({ message: text, text, prompt: text, requestId: fc.uuid(), stream: fc.boolean(), token }),
      fc.option(fc.tuple(fc.constantFrom(...fieldNames), odd), { nil: undefined, freq: 4 }),
    )
    .map(([fields, off]) => (off === undefined ? fields : { ...fields, [off[0]]: off[1] }));
  const payload = fc.oneof(anyFields, oneFieldOff);
  if (idField === undefined) return payload;
  // The event's own id field is present in most cases, so its lookups (and refusals) are reached.
  return fc
    .tuple(payload, fc.option(id, { nil: undefined, freq: 5 }))
    .map(([fields, idValue]) => (idValue === undefined ? fields : { ...fields, [idField]: idValue }));
}

/** One argument of an event. */
function argumentValues(vocabulary: PayloadVocabulary, sizes: PayloadSizes, idField: string | undefined): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: plausiblePayloads(vocabulary, sizes, idField) },
    { weight: 3, arbitrary: anyValues(vocabulary, sizes) },
    { weight: 2, arbitrary: binaries(sizes) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom('hello', '', ' '), fc.string({ unit: 'binary', maxLength: 40 }), loneSurrogates) },
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: pollution },
    { weight: 1, arbitrary: deeplyNested },
    { weight: 1, arbitrary: hugeStrings(sizes) },
    // Around socket.io-parser's limit of ten binary attachments in one packet.
    {
      weight: 1,
      arbitrary: fc.integer({ min: 9, max: 12 }).map((count) => Array.from({ length: count }, (_, index) => Buffer.from([index]))),
    },
  );
}

/** How fast-check prints a case: huge strings and binary parts as their sizes. */
function described(emission: Emission): Emission {
  return Object.assign(emission, {
    [fc.toStringMethod]: () => `ack=${emission.ack} args=${describeValue(emission.args)}`,
  });
}

export function describeValue(value: unknown): string {
  const text = JSON.stringify(value, function (this: unknown, _key, item: unknown) {
    if (typeof item === 'string' && item.length > 80) return `<${item.length} chars ${JSON.stringify(item.slice(0, 20))}…>`;
    if (typeof item === 'object' && item !== null && (item as { type?: unknown }).type === 'Buffer') {
      const bytes = (item as { data: number[] }).data;
      return `<Buffer ${bytes.length} bytes ${bytes.slice(0, 8).join(',')}>`;
    }
    if (item instanceof ArrayBuffer) return `<ArrayBuffer ${item.byteLength} bytes>`;
    if (typeof item === 'object' && item !== null && nestedDescriptions.has(item)) return nestedDescriptions.get(item);
    return item === undefined ? '<undefined>' : item;
  });
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}

/** What a case emits for an event: no arguments, one, or several, with or without an acknowledgement callback. */
export function emissions(vocabulary: PayloadVocabulary, sizes: PayloadSizes, idField: string | undefined): fc.Arbitrary<Emission> {
  const argument = argumentValues(vocabulary, sizes, idField);
  const args = fc.oneof(
    { weight: 1, arbitrary: fc.constant<unknown[]>([]) },
    { weight: 6, arbitrary: argument.map((value) => [value]) },
    { weight: 2, arbitrary: fc.array(argument, { minLength: 2, maxLength: 3 }) },
  );
  return fc.record({ args, ack: fc.boolean() }).map(described);
}
