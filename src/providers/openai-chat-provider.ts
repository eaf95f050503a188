import OpenAI from 'openai';
import type { EventSourceMessage } from 'eventsource-parser';
import { AppError } from '../core/errors.js';
import type { OpenAIProviderConfig } from '../config/config.js';
import type {
  ChatProvider,
  ChatRequest,
  EmbeddingProvider,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ModerationProvider,
  ModerationResult,
  ProviderStreamPart,
} from './chat-provider.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { DecodedOutput, openUpstreamStream, streamEndedEarly, type StreamDecoder } from './event-stream-reader.js';
import { withOneCallSignal } from './one-call-signal.js';
import { openAIResponseFormat, openAISampling, openAITools, toOpenAIMessage } from './openai-request.js';
import { toUpstreamError, type UpstreamLabel } from './upstream-error.js';

const label: UpstreamLabel = { displayName: 'OpenAI', keyVariable: 'OPENAI_API_KEY' };

/**
 * Any OpenAI-compatible API (OpenAI, Ollama, vLLM, llama.cpp, OpenRouter,
 * Groq, Mistral, Gemini's compatibility endpoint) through the official client.
 * The client builds and authenticates the request and maps HTTP failures; its
 * stream parser is bypassed with asResponse() because eventsource-parser
 * costs a measurable share of its CPU per token (bench/relay.ts measures the path).
 */
export class OpenAIChatProvider implements ChatProvider, EmbeddingProvider, ModerationProvider {
  readonly name = 'openai';
  private readonly client: OpenAI;

  constructor(config: OpenAIProviderConfig) {
    this.client = new OpenAI({
      apiKey: config.apiKey,
      // Explicit, so the client never falls back to reading process.env itself.
      baseURL: config.baseURL ?? 'https://api.openai.com/v1',
      organization: config.organization ?? null,
      // Retries belong to the resilience layer, which knows whether text has reached the client yet.
      maxRetries: 0,
      fetch: createNodeHttpFetch(),
    });
  }

  async streamChat(request: ChatRequest): Promise<AsyncIterable<ProviderStreamPart>> {
    const messages = request.messages.map(toOpenAIMessage);
    if (request.system !== undefined) messages.unshift({ role: 'system', content: request.system });
    return openUpstreamStream(
      () =>
        this.client.chat.completions
          .create(
            {
              model: request.model,
              messages,
              stream: true,
              stream_options: { include_usage: true },
              ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
              ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
              ...openAISampling(request.sampling),
              ...openAITools(request.tools),
              ...(request.responseFormat === undefined ? {} : { response_format: openAIResponseFormat(request.responseFormat) }),
            },
            { signal: request.signal },
          )
          .asResponse(),
      new OpenAIChatDecoder(),
      label,
    );
  }

  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    try {
      const body = {
        model: request.model,
        input: request.texts,
        ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      };
      const result = await withOneCallSignal(request.signal, (signal) => this.client.embeddings.create(body, { signal }));
      if (result.data.length !== request.texts.length) {
        throw new AppError('provider_error', `OpenAI returned ${result.data.length} embeddings for ${request.texts.length} inputs`);
      }
      const embeddings = [...result.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
      return { embeddings, model: result.model, tokens: result.usage.prompt_tokens };
    } catch (error) {
      throw toUpstreamError(error, label);
    }
  }

  async moderate(input: { model: string; text: string; signal?: AbortSignal }): Promise<ModerationResult> {
    try {
      const result = await withOneCallSignal(input.signal, (signal) =>
        this.client.moderations.create({ model: input.model, input: input.text }, { signal }),
      );
      const first = result.results[0];
      const categories = Object.entries(first?.categories ?? {}).flatMap(([name, flagged]) => (flagged ? [name] : []));
      return { flagged: first?.flagged ?? false, categories };
    } catch (error) {
      throw toUpstreamError(error, label);
    }
  }
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface ChatCompletionChunk {
  choices?: {
    delta?: { content?: string | null; tool_calls?: ToolCallDelta[] };
    logprobs?: { content?: unknown[] | null } | null;
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  error?: { message?: string };
}

/** Decodes `chat.completion.chunk` events; see https://platform.openai.com/docs/api-reference/chat-streaming */
class OpenAIChatDecoder implements StreamDecoder {
  ended = false;
  private readonly output = new DecodedOutput();
  /** The reply's tool calls by OpenAI's index, numbered from 0 in the order they started. */
  private readonly toolCallNumbers = new Map<number, number>();
  private finishReason: FinishReason | undefined;
  private usage: { promptTokens: number; completionTokens: number } | undefined;

  onEvent(event: EventSourceMessage): void {
    if (event.data === '[DONE]') {
      this.ended = true;
      return;
    }
    const content = plainContentDelta(event.data);
    if (content !== undefined) {
      this.output.addText(content);
      return;
    }
    const chunk = JSON.parse(event.data) as ChatCompletionChunk;
    if (chunk.error !== undefined) {
      throw new AppError('provider_error', `OpenAI failed mid-stream: ${chunk.error.message ?? 'unknown error'}`);
    }
    const choice = chunk.choices?.[0];
    if (choice !== undefined) {
      const content = choice.delta?.content;
      if (content) this.output.addText(content);
      const logprobs = choice.logprobs?.content;
      if (logprobs != null && logprobs.length > 0) this.output.addPart({ type: 'logprobs', content: logprobs });
      if (choice.delta?.tool_calls !== undefined) this.onToolCalls(choice.delta.tool_calls);
      if (choice.finish_reason) this.finishReason = toFinishReason(choice.finish_reason);
    }
    if (chunk.usage) this.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
  }

  private onToolCalls(deltas: ToolCallDelta[]): void {
    for (const delta of deltas) {
      const key = delta.index ?? 0;
      let index = this.toolCallNumbers.get(key);
      if (index === undefined) {
        index = this.toolCallNumbers.size;
        this.toolCallNumbers.set(key, index);
        this.output.addPart({ type: 'tool-call', index, id: delta.id ?? `call_${index}`, name: delta.function?.name ?? '' });
      }
      const fragment = delta.function?.arguments;
      if (fragment) this.output.addPart({ type: 'tool-arguments', index, arguments: fragment });
    }
  }

  takeText(): string {
    return this.output.takeText();
  }

  takeParts(): ProviderStreamPart[] {
    return this.output.takeParts();
  }

  finish(): ProviderStreamPart[] {
    // Some compatible servers omit [DONE]; a finish_reason is proof enough of a whole reply.
    if (this.finishReason === undefined) throw streamEndedEarly(label.displayName);
    const parts: ProviderStreamPart[] = [];
    if (this.usage !== undefined) parts.push({ type: 'usage', ...this.usage });
    parts.push({ type: 'finish', reason: this.finishReason });
    return parts;
  }
}

const contentDeltaMarker = '"choices":[{"index":0,"delta":{"content":"';

/**
 * The text of an ordinary mid-stream chunk (one choice whose delta holds
 * only text, no finish reason, no usage) read without JSON.parse; undefined
 * for any other chunk, which then takes the full parse. Parsing every chunk
 * whole was the largest cost of relaying a token in profiles (it builds the
 * chunk's seven objects and copies its id and model each time). A chunk
 * with log probabilities takes the full parse too. The markers
 * cannot match inside a JSON string: quotes there are escaped.
 */
export function plainContentDelta(data: string): string | undefined {
  const start = data.indexOf(contentDeltaMarker);
  if (start === -1) return undefined;
  const open = start + contentDeltaMarker.length - 1;
  let close = data.indexOf('"', open + 1);
  while (close !== -1 && isEscaped(data, close)) close = data.indexOf('"', close + 1);
  if (close === -1 || data.charCodeAt(close + 1) !== 125 /* } */) return undefined;
  const rest = data.slice(close + 1);
  if (!rest.includes('"finish_reason":null') || rest.includes('"usage":{') || rest.includes('"logprobs":{')) return undefined;
  const literal = data.slice(open, close + 1);
  return literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
}

/** Whether the quote at `index` is preceded by an odd number of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(index - 1 - backslashes) === 92 /* \\ */) backslashes++;
  return backslashes % 2 === 1;
}

function toFinishReason(reason: string): FinishReason {
  if (reason === 'stop' || reason === 'length' || reason === 'content_filter' || reason === 'tool_calls') return reason;
  return 'other';
}
