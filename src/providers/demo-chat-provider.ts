import { createHash } from 'node:crypto';
import { invalidRequest } from '../core/errors.js';
import { countTokens } from '../core/token-counter.js';
import type {
  ChatProvider,
  ChatRequest,
  EmbeddingProvider,
  EmbeddingRequest,
  EmbeddingResult,
  ProviderStreamPart,
} from './chat-provider.js';

export const demoModelName = 'parley-demo';

/**
 * Answers when no provider is configured at all, so a fresh clone works
 * offline; every reply says plainly what it is and how to configure a real
 * model. It reports no usage, so the engine counts tokens itself.
 */
export class DemoChatProvider implements ChatProvider, EmbeddingProvider {
  readonly name = 'demo';

  async streamChat(request: ChatRequest): Promise<AsyncIterable<ProviderStreamPart>> {
    request.signal.throwIfAborted();
    // A client that asks for a tool call or JSON wants it: the demo model can give neither, so it says so.
    if (request.tools !== undefined) throw invalidRequest('tools: the demo model calls no tools; configure a provider', 'tools');
    if (request.sampling?.logprobs !== undefined) throw invalidRequest('logprobs: the demo model has no log probabilities', 'logprobs');
    if (request.responseFormat !== undefined) {
      throw invalidRequest('response_format: the demo model writes no JSON; configure a provider', 'response_format');
    }
    return streamWords(demoReply(request), request.signal);
  }

  /**
   * A deterministic 256-dimension unit vector derived from the text's hash:
   * stable for tests and demos, meaningless for similarity.
   */
  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    const dimensions = Math.min(request.dimensions ?? demoEmbeddingDimensions, demoEmbeddingDimensions);
    const embeddings = request.texts.map((text) => demoEmbedding(text, dimensions));
    const tokens = request.texts.reduce((total, text) => total + countTokens(text), 0);
    return { embeddings, model: demoModelName, tokens };
  }
}

/** A unit vector derived from the text's hash: the same text always gets the same vector. */
function demoEmbedding(text: string, dimensions: number): number[] {
  const bytes: number[] = [];
  for (let block = 0; bytes.length < dimensions; block += 1) bytes.push(...createHash('sha256').update(`${block}:${text}`).digest());
  const values = bytes.slice(0, dimensions).map((byte) => byte / 127.5 - 1);
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

const demoEmbeddingDimensions = 256;

function demoReply(request: ChatRequest): string {
  const lastUserMessage = request.messages.findLast((message) => message.role === 'user')?.content ?? '';
  const quoted = lastUserMessage.length > 200 ? `${lastUserMessage.slice(0, 200)}…` : lastUserMessage;
  return (
    `This is Parley's built-in demo model, not a real AI: no model provider is configured. ` +
    `Set OPENAI_API_KEY (or OPENAI_BASE_URL for Ollama, vLLM or another OpenAI-compatible server) ` +
    `or ANTHROPIC_API_KEY and restart Parley to get real answers. You said: "${quoted}"`
  );
}

async function* streamWords(text: string, signal: AbortSignal): AsyncGenerator<ProviderStreamPart> {
  for (const word of text.match(/\s*\S+/g) ?? []) {
    signal.throwIfAborted();
    yield { type: 'text-delta', text: word };
    // One macrotask per word, so the reply streams like a model's instead of arriving at once.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  yield { type: 'finish', reason: 'stop' };
}
