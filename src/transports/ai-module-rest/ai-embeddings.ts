import { AppError } from '../../core/errors.js';
import type { EmbeddingProvider } from '../../providers/chat-provider.js';
import type { ProviderRegistry } from '../../providers/provider-registry.js';
import type { EmbeddingsBody } from './ai-module-requests.js';
import type { EmbeddingsResponse } from './ai-module-responses.js';

/** Seed 001's default embedding model. */
export const defaultEmbeddingModel = 'text-embedding-3-small';

/** Throws model_not_available when only Anthropic, which has no embeddings API, is configured. */
export function embeddingProvider(providers: ProviderRegistry): EmbeddingProvider {
  const provider = providers.embeddings();
  if (provider === undefined) {
    throw new AppError(
      'model_not_available',
      'Embeddings need the OpenAI-compatible provider, which is not configured: set OPENAI_API_KEY or OPENAI_BASE_URL',
      { field: 'model' },
    );
  }
  return provider;
}

export async function createEmbedding(providers: ProviderRegistry, body: EmbeddingsBody, signal: AbortSignal): Promise<EmbeddingsResponse> {
  const result = await embeddingProvider(providers).embed({ model: body.model ?? defaultEmbeddingModel, texts: [body.text], signal });
  return { embedding: result.embeddings[0]!, model: result.model, tokens: result.tokens };
}
