import { z } from 'zod';
import { limitEnvironment, turnLimits, type TurnLimits } from './limit-settings.js';
import { rateLimitEnvironment, rateLimitSettings, type RateLimitSettings } from './rate-limit-settings.js';
import { resilienceEnvironment, resilienceSettings, type ResilienceSettings } from './resilience-settings.js';
import { tracingSettings, type TracingSettings } from './tracing-settings.js';
import { voiceEnvironment, voiceSettings, type VoiceSettings } from './voice-settings.js';
import { databaseLocation } from '../store/database-url.js';
import { surfaceDefaults, type SurfaceSettings, type SurfaceName } from './surface-defaults.js';

/**
 * The environment is parsed once, here; nothing else reads process.env.
 * Variable names are the ones the five seed documents use, so an existing
 * deployment's .env works unchanged.
 */
const optionalText = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const optionalNumber = (schema: z.ZodNumber) =>
  z.preprocess((value) => (value === '' || value === undefined ? undefined : Number(value)), schema.optional());

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const environmentSchema = z.object({
  NODE_ENV: optionalText,
  PORT: optionalNumber(z.number().int().min(0).max(65535)),
  HOST: optionalText,
  CORS_ORIGIN: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),

  DATABASE_URL: optionalText.superRefine((value, context) => {
    if (value === undefined) return;
    try {
      databaseLocation(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
  DATABASE_TIMEOUT_MS: optionalNumber(z.number().int().min(100).max(600_000)),
  JWT_SECRET: optionalText.refine((value) => value === undefined || value.length >= 32, {
    message: 'must be at least 32 characters (HS256 needs a 256-bit secret)',
  }),
  JWKS_URL: optionalText.pipe(z.url().optional()),
  METRICS_TOKEN: optionalText,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(z.url().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText.pipe(z.url().optional()),
  OTEL_SERVICE_NAME: optionalText,
  SIGNUP: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => value === undefined || value === '' || value === 'true' || value === '1' || value === 'yes'),
  ACCOUNT_TOKEN_HOURS: optionalNumber(
    z
      .number()
      .int()
      .min(1)
      .max(24 * 366),
  ),
  ALLOW_REMOTE_LOCAL_MODE: booleanFlag,
  TRUST_PROXY: booleanFlag,

  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalText.pipe(z.url().optional()),
  OPENAI_ORG_ID: optionalText,
  OPENAI_MODEL: optionalText,
  OPENAI_DEFAULT_MODEL: optionalText,
  OPENAI_MAX_TOKENS: optionalNumber(z.number().int().positive()),
  OPENAI_TEMPERATURE: optionalNumber(z.number().min(0).max(2)),
  OPENAI_SYSTEM_PROMPT: optionalText,
  SYSTEM_PROMPT: optionalText,

  ANTHROPIC_API_KEY: optionalText,
  CLAUDE_API_KEY: optionalText,
  ANTHROPIC_BASE_URL: optionalText.pipe(z.url().optional()),
  CLAUDE_MODEL: optionalText,
  CLAUDE_MAX_TOKENS: optionalNumber(z.number().int().positive()),
  CHAT_SYSTEM_PROMPT: optionalText,

  ASSISTANT_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),
  AI_MODULE_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),
  CHAT_SESSIONS_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),
  STREAM_V2_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),
  VOICE_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),
  OPENAI_API_HISTORY_LIMIT: optionalNumber(z.number().int().min(0).max(1000)),

  DEFAULT_CONTEXT_WINDOW: optionalNumber(z.number().int().min(256)),
  METRICS: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => value === undefined || value === '' || value === 'true' || value === '1' || value === 'yes'),
  AUTO_TITLES: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => value === undefined || value === '' || value === 'true' || value === '1' || value === 'yes'),
  GUEST_RETENTION_DAYS: optionalNumber(z.number().int().min(0).max(36_500)),
  BODY_LIMIT_BYTES: optionalNumber(z.number().int().min(1024)),
  SHUTDOWN_GRACE_MS: optionalNumber(z.number().int().min(0).max(600_000)),
  REPLY_CHECKPOINT_MS: optionalNumber(z.number().int().min(50).max(600_000)),
  INSTANCE_HEARTBEAT_MS: optionalNumber(z.number().int().min(50).max(600_000)),
  TURN_DETACH_SECONDS: optionalNumber(z.number().min(0).max(3600)),
  TURN_LOG_RETENTION_SECONDS: optionalNumber(z.number().min(0).max(86_400)),
  SOCKET_RECOVERY_SECONDS: optionalNumber(z.number().min(0).max(3600)),
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional()),
  TURN_REDIS_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.:-]+$/, 'may hold only letters, digits, _ . : -')
      .optional(),
  ),
  JOB_CONCURRENCY: optionalNumber(z.number().int().min(1).max(100)),
  JOB_QUEUE_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.-]+$/, 'may hold only letters, digits, _ . -')
      .optional(),
  ),
  ...resilienceEnvironment,
  ...limitEnvironment,
  ...rateLimitEnvironment,
  ...voiceEnvironment,
});

export type Environment = z.infer<typeof environmentSchema>;

export interface OpenAIProviderConfig {
  apiKey: string;
  baseURL: string | undefined;
  organization: string | undefined;
}

export interface AnthropicProviderConfig {
  apiKey: string;
  baseURL: string | undefined;
}

export interface Config {
  production: boolean;
  host: string;
  port: number;
  corsOrigin: string | undefined;
  logLevel: string;
  databaseUrl: string;
  /** Postgres: how long connecting or a query may take before the request fails as store_unavailable. */
  databaseTimeoutMs: number;
  jwtSecret: string | undefined;
  /** An identity provider's JWKS, for RS256 tokens. */
  jwksUrl: string | undefined;
  allowRemoteLocalMode: boolean;
  /** METRICS=false: no GET /metrics (404) and nothing counted; on by default. */
  metricsEnabled: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <it>`. */
  metricsToken: string | undefined;
  /** OpenTelemetry traces: on when a collector endpoint is set. */
  tracing: TracingSettings | undefined;
  /** Built-in accounts (with JWT_SECRET): whether anyone may sign up (the first account always may), and how long a session token lasts. */
  accounts: { signup: boolean; tokenHours: number };
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  bodyLimitBytes: number;
  /** How long shutdown waits for open requests and streams before closing their connections. */
  shutdownGraceMs: number;
  durability: DurabilitySettings;
  /** Redis for the background job queue (BullMQ); unset: jobs run in process. */
  redisUrl: string | undefined;
  jobs: { concurrency: number; queuePrefix: string };
  defaultContextWindow: number;
  /** Chat sessions still called "New Chat" are named by the model after their first reply (src/chat/conversation-titles.ts). */
  autoTitles: boolean;
  /** Guests' conversations idle this long are deleted; 0 keeps them. */
  guestRetentionDays: number;
  providers: {
    openai: OpenAIProviderConfig | undefined;
    anthropic: AnthropicProviderConfig | undefined;
  };
  surfaces: Record<SurfaceName, SurfaceSettings>;
  resilience: ResilienceSettings;
  limits: TurnLimits;
  rateLimits: RateLimitSettings;
  voice: VoiceSettings;
}

/** How much of a reply a crash can lose, and how soon another instance notices (see src/chat/reply-checkpoints.ts). */
export interface DurabilitySettings {
  /** A streaming reply's text is written this often while it grows. */
  replyCheckpointMs: number;
  /** How often an instance says it is alive; three missed beats and its replies in progress are finished as interrupted. */
  instanceHeartbeatMs: number;
  /** How long a conversation turn whose clients all left keeps generating for one to come back; 0 aborts at once. */
  turnDetachMs: number;
  /** How long an ended turn's events stay readable for a client that resumes late. */
  turnLogRetentionMs: number;
  /** How long Socket.IO keeps a dropped socket's missed packets for it to come back (connection state recovery); 0: off. */
  socketRecoveryMs: number;
  /** With REDIS_URL: the prefix of the turn logs' streams, the stop channel and Socket.IO's adapter stream. */
  redisPrefix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        return `${name}: ${issue.message} (got ${describeValue(name, environment[name])})`;
      }),
    );
  }
  const env = parsed.data;
  return {
    production: env.NODE_ENV === 'production',
    host: env.HOST ?? '127.0.0.1',
    port: env.PORT ?? 8000,
    corsOrigin: env.CORS_ORIGIN,
    logLevel: env.LOG_LEVEL ?? 'info',
    databaseUrl: env.DATABASE_URL ?? 'file:./data/parley.db',
    databaseTimeoutMs: env.DATABASE_TIMEOUT_MS ?? 10_000,
    jwtSecret: env.JWT_SECRET,
    jwksUrl: env.JWKS_URL,
    allowRemoteLocalMode: env.ALLOW_REMOTE_LOCAL_MODE,
    metricsEnabled: env.METRICS,
    metricsToken: env.METRICS_TOKEN,
    tracing: tracingSettings(env),
    accounts: { signup: env.SIGNUP, tokenHours: env.ACCOUNT_TOKEN_HOURS ?? 168 },
    trustProxy: env.TRUST_PROXY,
    bodyLimitBytes: env.BODY_LIMIT_BYTES ?? 1024 * 1024,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS ?? 10_000,
    durability: {
      replyCheckpointMs: env.REPLY_CHECKPOINT_MS ?? 1_000,
      instanceHeartbeatMs: env.INSTANCE_HEARTBEAT_MS ?? 10_000,
      turnDetachMs: (env.TURN_DETACH_SECONDS ?? 60) * 1000,
      turnLogRetentionMs: (env.TURN_LOG_RETENTION_SECONDS ?? 300) * 1000,
      socketRecoveryMs: (env.SOCKET_RECOVERY_SECONDS ?? 30) * 1000,
      redisPrefix: env.TURN_REDIS_PREFIX ?? 'parley',
    },
    redisUrl: env.REDIS_URL,
    jobs: { concurrency: env.JOB_CONCURRENCY ?? 4, queuePrefix: env.JOB_QUEUE_PREFIX ?? 'parley' },
    defaultContextWindow: env.DEFAULT_CONTEXT_WINDOW ?? 8192,
    autoTitles: env.AUTO_TITLES,
    guestRetentionDays: env.GUEST_RETENTION_DAYS ?? 30,
    providers: {
      openai: openAIProvider(env),
      anthropic: anthropicProvider(env),
    },
    surfaces: surfaceDefaults(env),
    resilience: resilienceSettings(env),
    limits: turnLimits(env),
    rateLimits: rateLimitSettings(env),
    voice: voiceSettings(env),
  };
}

/** An OpenAI-compatible server (Ollama, vLLM, llama.cpp) may need no key: its base URL alone configures it. */
function openAIProvider(env: Environment): OpenAIProviderConfig | undefined {
  if (env.OPENAI_API_KEY === undefined && env.OPENAI_BASE_URL === undefined) return undefined;
  return { apiKey: env.OPENAI_API_KEY ?? 'not-needed', baseURL: env.OPENAI_BASE_URL, organization: env.OPENAI_ORG_ID };
}

function anthropicProvider(env: Environment): AnthropicProviderConfig | undefined {
  const apiKey = env.ANTHROPIC_API_KEY ?? env.CLAUDE_API_KEY;
  if (apiKey === undefined) return undefined;
  return { apiKey, baseURL: env.ANTHROPIC_BASE_URL };
}

/** A bad value is shown to help fix it, except secrets and the credentials in a URL. */
function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (/KEY|SECRET|TOKEN|PASSWORD/.test(name)) return `a value of ${value.length} characters`;
  return JSON.stringify(value.replace(/\/\/[^/@\s]*@/, '//***@'));
}

/** Node 20.12+ reads .env natively; a missing file is not an error. */
export function loadDotEnvFile(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
