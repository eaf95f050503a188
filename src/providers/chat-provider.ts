/**
 * The provider port. Adapters translate one upstream API into this shape;
 * the engine never sees a vendor's wire format.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

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
  signal: AbortSignal;
}

export interface SamplingOptions {
  /** Up to 4 sequences that end the reply. */
  stop?: string[];
  topP?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** The end user, for the provider's abuse monitoring. */
  user?: string;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'other';

/**
 * Deltas arriving in one network read are coalesced into one text-delta, so
 * the per-token cost downstream is paid per read, not per upstream event.
 */
export type ProviderStreamPart =
  | { type: 'text-delta'; text: string }
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
