import { z } from 'zod';

/**
 * How Parley protects itself from failing providers. Seed 002 names the
 * Anthropic breaker's variables (CLAUDE_CB_THRESHOLD, CLAUDE_CB_COOLDOWN);
 * every provider has the same pair.
 */
const count = (maximum: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(maximum).optional());
const milliseconds = z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3_600_000).optional());

function emptyToUndefined(value: unknown): unknown {
  return value === '' ? undefined : value;
}

export const resilienceEnvironment = {
  PROVIDER_MAX_RETRIES: count(10),
  PROVIDER_RETRY_BASE_DELAY_MS: milliseconds,
  PROVIDER_RETRY_MAX_DELAY_MS: milliseconds,
  PROVIDER_CONNECT_TIMEOUT_MS: milliseconds,
  PROVIDER_FIRST_TOKEN_TIMEOUT_MS: milliseconds,
  PROVIDER_IDLE_TIMEOUT_MS: milliseconds,
  PROVIDER_TOTAL_TIMEOUT_MS: milliseconds,
  OPENAI_CB_THRESHOLD: count(1000),
  OPENAI_CB_COOLDOWN: count(86_400),
  CLAUDE_CB_THRESHOLD: count(1000),
  CLAUDE_CB_COOLDOWN: count(86_400),
  FALLBACK_MODELS: z
    .string()
    .optional()
    .transform((value, context) => parseFallbackModels(value ?? '', context)),
};

type ResilienceEnvironment = z.infer<z.ZodObject<typeof resilienceEnvironment>>;

export interface BreakerSettings {
  /** Consecutive failures that open the circuit; 0 disables the breaker. */
  threshold: number;
  cooldownSeconds: number;
}

export interface ResilienceSettings {
  maxRetries: number;
  retryBaseDelayMs: number;
  /** A Retry-After longer than this is not waited for: the 429 goes to the client. */
  retryMaxDelayMs: number;
  timeouts: {
    /** Until the upstream answers with headers. */
    connectMs: number;
    /** Until the first part of the reply. */
    firstTokenMs: number;
    /** Between two parts of the reply. */
    idleMs: number;
    /** The whole reply. */
    totalMs: number;
  };
  breakers: { openai: BreakerSettings; anthropic: BreakerSettings };
  /** Model name or provider name ('anthropic') → the model to use while it is unavailable. */
  fallbackModels: Map<string, string>;
}

export function resilienceSettings(env: ResilienceEnvironment): ResilienceSettings {
  return {
    maxRetries: env.PROVIDER_MAX_RETRIES ?? 2,
    retryBaseDelayMs: env.PROVIDER_RETRY_BASE_DELAY_MS ?? 250,
    retryMaxDelayMs: env.PROVIDER_RETRY_MAX_DELAY_MS ?? 8_000,
    timeouts: {
      connectMs: env.PROVIDER_CONNECT_TIMEOUT_MS ?? 30_000,
      firstTokenMs: env.PROVIDER_FIRST_TOKEN_TIMEOUT_MS ?? 60_000,
      idleMs: env.PROVIDER_IDLE_TIMEOUT_MS ?? 30_000,
      totalMs: env.PROVIDER_TOTAL_TIMEOUT_MS ?? 600_000,
    },
    breakers: {
      openai: { threshold: env.OPENAI_CB_THRESHOLD ?? 5, cooldownSeconds: env.OPENAI_CB_COOLDOWN ?? 60 },
      anthropic: { threshold: env.CLAUDE_CB_THRESHOLD ?? 5, cooldownSeconds: env.CLAUDE_CB_COOLDOWN ?? 60 },
    },
    fallbackModels: env.FALLBACK_MODELS,
  };
}

/** `claude-3-5-sonnet-latest=gpt-4o,anthropic=gpt-4o-mini`: comma-separated `from=to` pairs. */
function parseFallbackModels(value: string, context: z.RefinementCtx): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const entry of value.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const [from, to, extra] = entry.split('=').map((part) => part.trim());
    if (!from || !to || extra !== undefined) {
      context.addIssue({ code: 'custom', message: `"${entry}" is not a from=to pair (e.g. claude-3-5-sonnet-latest=gpt-4o)` });
      continue;
    }
    pairs.set(from, to);
  }
  return pairs;
}
