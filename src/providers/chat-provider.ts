/**
 * The provider port. Adapters translate one upstream API into this shape;
 * the engine never sees a vendor's wire format.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** The message's text; a tool message's is the tool's result. */
  content: string;
  /** Set when a user message holds images: all its parts in order, its text included. */
  parts?: ContentPart[];
  /** The tools an assistant message asked for. */
  toolCalls?: ToolCall[];
  /** A tool message: the id of the call it answers. */
  toolCallId?: string;
}

/** A piece of a user message. An image's `url` is http(s) or a `data:<mime>;base64,` URL. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image'; url: string };

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text. */
  arguments: string;
}

/** A tool the model may call; Parley relays the call to the client and never runs it. */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** A JSON Schema object for the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export interface ToolOptions {
  tools: ToolDefinition[];
  /** 'auto' (the default), 'none', 'required' (some tool), or one tool by name. */
  choice?: 'auto' | 'none' | 'required' | { name: string };
  /** false: at most one call per reply. */
  parallel?: boolean;
}

/** Structured output: any JSON object, or one that matches `schema`. */
export type ResponseFormat =
  { type: 'json_object' } | { type: 'json_schema'; name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string };

export interface ChatRequest {
  /** The model name as the upstream knows it (no `provider/` prefix). */
  model: string;
  /** The system prompt, kept apart because Anthropic takes it apart. */
  system: string | undefined;
  /** Conversation messages, oldest first, ending with the new user message. */
  messages: ChatMessage[];
  maxTokens: number | undefined;
  temperature: number | undefined;
  /** The client's other sampling settings, passed on where the provider has them (an adapter refuses what it cannot do). */
  sampling?: SamplingOptions | undefined;
  tools?: ToolOptions | undefined;
  responseFormat?: ResponseFormat | undefined;
  signal: AbortSignal;
  /** Told of each retry before the first token (attempt 1 is the first retry), for the turn's trace. */
  onRetry?: ((attempt: number) => void) | undefined;
}

export interface SamplingOptions {
  /** Up to 4 sequences that end the reply. */
  stop?: string[];
  topP?: number;
  /** Sample from the k likeliest tokens only (Anthropic's). */
  topK?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Token id → bias (-100 to 100), in the model's own tokenizer. */
  logitBias?: Record<string, number>;
  /** The end user, for the provider's abuse monitoring. */
  user?: string;
  /** Ask for each output token's log probability, with this many likeliest alternatives (0–20). */
  logprobs?: { top: number };
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'other';

/**
 * Deltas arriving in one network read are coalesced into one text-delta, so
 * the per-token cost downstream is paid per read, not per upstream event.
 */
export type ProviderStreamPart =
  | { type: 'text-delta'; text: string }
  /** The reply calls a tool; `index` counts the reply's calls from 0. */
  | { type: 'tool-call'; index: number; id: string; name: string }
  /** The next fragment of a call's JSON arguments. */
  | { type: 'tool-arguments'; index: number; arguments: string }
  /** Log probabilities of the text just before, as the provider sent them (OpenAI's `logprobs.content` entries). */
  | { type: 'logprobs'; content: unknown[] }
  | { type: 'usage'; promptTokens: number; completionTokens: number }
  | { type: 'finish'; reason: FinishReason };

export interface ChatProvider {
  /** Stored on each reply: 'openai', 'anthropic' or 'demo'. */
  readonly name: string;
  /**
   * Resolves once the upstream has accepted the request (HTTP 200), so an
   * upstream refusal is a rejected promise before any text. Rejects with an
   * AppError; the returned stream throws an AppError if the upstream fails
   * midway, or an AbortError when the signal fires.
   */
  streamChat(request: ChatRequest): Promise<AsyncIterable<ProviderStreamPart>>;
}

export interface EmbeddingResult {
  /** One vector per input text, in the inputs' order. */
  embeddings: number[][];
  model: string;
  /** Prompt tokens of all the inputs together. */
  tokens: number;
}

export interface EmbeddingRequest {
  model: string;
  texts: string[];
  /** Shorter vectors, for models that make them (OpenAI's text-embedding-3). */
  dimensions?: number;
  signal?: AbortSignal;
}

export interface EmbeddingProvider {
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>;
}

export interface ModerationResult {
  flagged: boolean;
  /** The names of the flagged categories. */
  categories: string[];
}

export interface ModerationProvider {
  moderate(input: { model: string; text: string; signal?: AbortSignal }): Promise<ModerationResult>;
}
