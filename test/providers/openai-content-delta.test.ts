import { describe, expect, it } from 'vitest';
import { plainContentDelta } from '../../src/providers/openai-chat-provider.js';

const head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","system_fingerprint":"fp_1",';

function chunk(choice: object, extra = ''): string {
  return `${head}"choices":[${JSON.stringify(choice)}]${extra}}`;
}

function plain(content: string, extra = ''): string {
  return chunk({ index: 0, delta: { content }, logprobs: null, finish_reason: null }, extra);
}

describe('reading an OpenAI chunk without JSON.parse', () => {
  it('reads the text of ordinary chunks exactly, escapes included', () => {
    const texts = [
      'Hello',
      ' world',
      '',
      'say "hi"',
      'back\\slash',
      'ends with \\',
      '\\"',
      'line\nbreak\ttab',
      'é 日本 🎉',
      '\u0000\u001f',
      '}]"',
    ];
    for (const text of texts) {
      expect(plainContentDelta(plain(text))).toBe(text);
      expect(plainContentDelta(plain(text, ',"usage":null,"obfuscation":"x"'))).toBe(text);
    }
    // Upstreams that escape non-ASCII as \u sequences.
    expect(plainContentDelta(plain('x').replace('"x"', '"\\u00e9\\ud83c\\udf89"'))).toBe('é🎉');
  });

  it('leaves every other chunk to the full parse', () => {
    const others = [
      chunk({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }),
      chunk({ index: 0, delta: { content: 'last' }, logprobs: null, finish_reason: 'stop' }),
      chunk({ index: 0, delta: { content: 'x', refusal: null }, logprobs: null, finish_reason: null }),
      chunk({ index: 0, delta: { content: null }, logprobs: null, finish_reason: null }),
      chunk({ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }),
      // Log probabilities ride on the text's chunk: reading only the text would drop them.
      chunk({
        index: 0,
        delta: { content: 'x' },
        logprobs: { content: [{ token: 'x', logprob: -1, bytes: [120], top_logprobs: [] }] },
        finish_reason: null,
      }),
      chunk({ index: 0, delta: { content: 'x', tool_calls: [] }, logprobs: null, finish_reason: null }),
      plain('x', ',"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}'),
      `${head}"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
      '{"error":{"message":"boom"}}',
      // A model name that spells the marker is escaped, so it cannot match.
      chunk({ index: 0, delta: { role: 'assistant' }, finish_reason: null }).replace(
        'gpt-4o',
        'x\\"choices\\":[{\\"index\\":0,\\"delta\\":{\\"content\\":\\"evil',
      ),
    ];
    for (const data of others) expect(plainContentDelta(data)).toBeUndefined();
  });
});
