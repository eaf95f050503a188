import { z } from 'zod';

/** Requests per window: `20/60` is 20 requests a minute; `0/60` turns the limit off. */
export interface RateBudget {
  points: number;
  windowSeconds: number;
}

/**
 * Which budget a request draws from. Seed 003's SSE and Socket.IO paths share
 * `stream-v2`; the OpenAI-compatible API, seed 000 and the voice assistant
 * share `default`.
 */
export type RateLimitBucket = 'ai-module' | 'ai-module-embeddings' | 'chat-sessions' | 'stream-v2' | 'default';

export interface RateLimitSettings {
  buckets: Record<RateLimitBucket, { signedIn: RateBudget; anonymous: RateBudget }>;
  /** Prefix of the limiter's Redis keys, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
}

const budget = z
  .string()
  .regex(/^\d+\/\d+$/, 'must be <requests>/<seconds>, e.g. 20/60')
  .transform((value): RateBudget => {
    const [points, windowSeconds] = value.split('/').map(Number) as [number, number];
    return { points, windowSeconds: Math.max(windowSeconds, 1) };
  })
  .optional();

export const rateLimitEnvironment = {
  RATE_LIMIT_AI_MODULE: budget,
  RATE_LIMIT_AI_MODULE_EMBEDDINGS: budget,
  RATE_LIMIT_CHAT_SESSIONS: budget,
  RATE_LIMIT_STREAM_V2: budget,
  RATE_LIMIT_STREAM_V2_ANONYMOUS: budget,
  RATE_LIMIT_DEFAULT: budget,
  RATE_LIMIT_DEFAULT_ANONYMOUS: budget,
  RATE_LIMIT_REDIS_PREFIX: z.string().optional(),
};

type RateLimitEnvironment = z.infer<z.ZodObject<typeof rateLimitEnvironment>>;

/** The seeds' own numbers are the defaults. */
export function rateLimitSettings(env: RateLimitEnvironment): RateLimitSettings {
  const aiModule = env.RATE_LIMIT_AI_MODULE ?? { points: 20, windowSeconds: 60 };
  const embeddings = env.RATE_LIMIT_AI_MODULE_EMBEDDINGS ?? { points: 20, windowSeconds: 60 };
  const chatSessions = env.RATE_LIMIT_CHAT_SESSIONS ?? { points: 120, windowSeconds: 60 };
  const defaultBudget = env.RATE_LIMIT_DEFAULT ?? { points: 60, windowSeconds: 60 };
  return {
    buckets: {
      // Seed 001: chat 20 requests a minute per user, and embeddings 20 more.
      'ai-module': { signedIn: aiModule, anonymous: aiModule },
      'ai-module-embeddings': { signedIn: embeddings, anonymous: embeddings },
      // Seed 002: 120 messages a minute per user.
      'chat-sessions': { signedIn: chatSessions, anonymous: chatSessions },
      // Seed 003: 100 per 15 minutes signed in, 20 for guests, SSE and sockets together.
      'stream-v2': {
        signedIn: env.RATE_LIMIT_STREAM_V2 ?? { points: 100, windowSeconds: 900 },
        anonymous: env.RATE_LIMIT_STREAM_V2_ANONYMOUS ?? { points: 20, windowSeconds: 900 },
      },
      default: { signedIn: defaultBudget, anonymous: env.RATE_LIMIT_DEFAULT_ANONYMOUS ?? defaultBudget },
    },
    redisKeyPrefix: env.RATE_LIMIT_REDIS_PREFIX ?? 'parley:rate',
  };
}
