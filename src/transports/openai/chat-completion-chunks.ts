import type { FinishReason } from '../../providers/chat-provider.js';

/**
 * Encodes a streamed reply as OpenAI `chat.completion.chunk` events. The
 * parts of a chunk that never change are serialized once per response, so
 * each token costs one JSON.stringify of its text and one concatenation.
 */
export class ChatCompletionChunks {
  private readonly head: string;
  private readonly deltaPrefix: string;
  private readonly toolCallsPrefix: string;
  private readonly usageNull: string;

  /** `created` is in seconds, the turn's start: a resumed stream's chunks are the same as the first's. */
  constructor(id: string, model: string, includeUsage: boolean, created: number) {
    this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":null,`;
    // With include_usage, OpenAI sends "usage":null on every ordinary chunk.
    this.usageNull = includeUsage ? ',"usage":null' : '';
    this.deltaPrefix = `${this.head}"choices":[{"index":0,"delta":{"content":`;
    this.toolCallsPrefix = `${this.head}"choices":[{"index":0,"delta":{"tool_calls":[`;
  }

  role(): string {
    return `${this.head}"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${this.usageNull}}\n\n`;
  }

  delta(text: string): string {
    return `${this.deltaPrefix}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]${this.usageNull}}\n\n`;
  }

  /** A tool call starts: its id and name, and empty arguments, as OpenAI sends them. */
  toolCall(index: number, id: string, name: string): string {
    const call = { index, id, type: 'function', function: { name, arguments: '' } };
    return `${this.toolCallsPrefix}${JSON.stringify(call)}]},"logprobs":null,"finish_reason":null}]${this.usageNull}}\n\n`;
  }

  /** The next fragment of a tool call's JSON arguments. */
  toolArguments(index: number, fragment: string): string {
    return `${this.toolCallsPrefix}{"index":${index},"function":{"arguments":${JSON.stringify(fragment)}}}]},"logprobs":null,"finish_reason":null}]${this.usageNull}}\n\n`;
  }

  /** The log probabilities of the text in the chunk before (OpenAI sends them in the same chunk; clients gather them from any). */
  logprobs(content: unknown[]): string {
    return `${this.head}"choices":[{"index":0,"delta":{},"logprobs":{"content":${JSON.stringify(content)},"refusal":null},"finish_reason":null}]${this.usageNull}}\n\n`;
  }

  finish(reason: FinishReason): string {
    return `${this.head}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${toOpenAIFinishReason(reason)}"}]${this.usageNull}}\n\n`;
  }

  usage(promptTokens: number, completionTokens: number): string {
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    return `${this.head}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
  }

  static readonly done = 'data: [DONE]\n\n';
}

export function toOpenAIFinishReason(reason: FinishReason): Exclude<FinishReason, 'other'> {
  return reason === 'other' ? 'stop' : reason;
}
