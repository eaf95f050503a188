import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { clientDisconnectSignal } from '../../http/event-stream-response.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { embeddingProvider } from '../ai-module-rest/ai-embeddings.js';

/** OpenAI's own limit on inputs per request. */
const maxInputs = 2048;
/** All inputs together may hold this many MAX_MESSAGE_CHARS: the demo model counts their tokens on the event loop. */
const totalCharsFactor = 8;

/** OpenAI's embeddings request. Token-array inputs (`number[]`) are refused: Parley routes by text. */
export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(maxInputs)], {
    error: `must be a non-empty string or an array of at most ${maxInputs} non-empty strings`,
  }),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().positive().max(65_536).nullish(),
  user: z.string().max(256).nullish(),
});

/**
 * POST /v1/embeddings in OpenAI's wire format (float or base64, one string
 * or many, `dimensions`), through the provider layer like chat: the
 * OpenAI-compatible provider, or the demo model in demo mode.
 */
export function registerEmbeddingsRoute(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'guard' | 'providers' | 'rateLimiter' | 'store'>,
): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/embeddings', { schema: { body: embeddingsRequestSchema } }, async (request, reply) => {
    const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
    const body = request.body;
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    // Refused before any tokenizing: counting a megabyte of text blocks the event loop for seconds.
    const limit = dependencies.config.limits.maxMessageChars;
    const tooLong = texts.findIndex((text) => text.length > limit);
    if (tooLong !== -1) {
      throw new AppError('payload_too_large', `Input ${tooLong} is ${texts[tooLong]!.length} characters; the limit is ${limit}`, {
        field: 'input',
      });
    }
    const total = texts.reduce((sum, text) => sum + text.length, 0);
    if (total > limit * totalCharsFactor) {
      throw new AppError('payload_too_large', `The inputs hold ${total} characters; the limit is ${limit * totalCharsFactor}`, {
        field: 'input',
      });
    }
    await dependencies.rateLimiter.consume('default', identity, request.ip);
    await dependencies.guard.refuseSpentBudget(identity.userId);
    const result = await embeddingProvider(dependencies.providers).embed({
      model: body.model,
      texts,
      ...(body.dimensions == null ? {} : { dimensions: body.dimensions }),
      signal: clientDisconnectSignal(reply),
    });
    // Billed like a turn's prompt: it counts in the user's usage and, for later turns, against their token budgets.
    await dependencies.store.recordUsage(identity.userId, result.tokens);
    const encode = body.encoding_format === 'base64' ? toBase64 : (vector: number[]) => vector;
    return {
      object: 'list',
      data: result.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: encode(embedding) })),
      model: result.model,
      usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
    };
  });
}

/** What OpenAI sends for `encoding_format: "base64"`: the vector's little-endian float32 bytes. */
function toBase64(vector: number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}
