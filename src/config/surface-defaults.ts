import type { Environment } from './config.js';

/**
 * Each public API takes its defaults from its own seed document. Where two
 * seeds name different variables for one setting, a surface prefers its own
 * seed's variable and falls back to the other's.
 */
export type SurfaceName = 'openai' | 'assistant' | 'aiModule' | 'chatSessions' | 'streamV2' | 'voice';

export interface SurfaceSettings {
  model: string;
  systemPrompt: string | undefined;
  maxTokens: number | undefined;
  temperature: number | undefined;
  /** How many earlier messages of the conversation are sent upstream. */
  historyLimit: number;
}

const assistantPrompt = 'You are a helpful personal assistant for MintFlow users. Help them get things done efficiently.';
const repruvPrompt =
  'You are Repruv AI, a helpful assistant for content creators and influencers. You help with content strategy, ' +
  'audience growth, creative ideas and social media management. Be concise, practical and encouraging.';
const voicePrompt = 'You are a helpful and friendly AI assistant. Keep responses concise and on-topic.';

export function surfaceDefaults(env: Environment): Record<SurfaceName, SurfaceSettings> {
  return {
    // The OpenAI-compatible API: the client names the model and sends its own history.
    openai: {
      model: env.OPENAI_MODEL ?? env.OPENAI_DEFAULT_MODEL ?? 'gpt-4o-mini',
      systemPrompt: undefined,
      maxTokens: undefined,
      temperature: undefined,
      historyLimit: env.OPENAI_API_HISTORY_LIMIT ?? 0,
    },
    // Seed 000: Socket.IO /ai namespace, ai_request.
    assistant: {
      model: env.OPENAI_DEFAULT_MODEL ?? env.OPENAI_MODEL ?? 'gpt-4o',
      systemPrompt: env.OPENAI_SYSTEM_PROMPT ?? env.SYSTEM_PROMPT ?? assistantPrompt,
      maxTokens: env.OPENAI_MAX_TOKENS,
      temperature: env.OPENAI_TEMPERATURE,
      historyLimit: env.ASSISTANT_HISTORY_LIMIT ?? 100,
    },
    // Seed 001: REST /api/v1/ai and chat:* events.
    aiModule: {
      model: env.OPENAI_MODEL ?? env.OPENAI_DEFAULT_MODEL ?? 'gpt-4',
      systemPrompt: env.OPENAI_SYSTEM_PROMPT ?? env.SYSTEM_PROMPT,
      maxTokens: env.OPENAI_MAX_TOKENS ?? 4096,
      temperature: env.OPENAI_TEMPERATURE ?? 0.7,
      historyLimit: env.AI_MODULE_HISTORY_LIMIT ?? 10,
    },
    // Seed 002: /api/v1/chat sessions on Claude.
    chatSessions: {
      model: env.CLAUDE_MODEL ?? 'claude-3-5-sonnet-latest',
      systemPrompt: env.CHAT_SYSTEM_PROMPT ?? repruvPrompt,
      maxTokens: env.CLAUDE_MAX_TOKENS ?? 1024,
      temperature: 0.7,
      historyLimit: env.CHAT_SESSIONS_HISTORY_LIMIT ?? 20,
    },
    // Seed 003: /api/v2 SSE and ai:chat events.
    streamV2: {
      model: env.OPENAI_MODEL ?? env.OPENAI_DEFAULT_MODEL ?? 'gpt-4o-mini',
      systemPrompt: env.SYSTEM_PROMPT ?? env.OPENAI_SYSTEM_PROMPT,
      maxTokens: env.OPENAI_MAX_TOKENS,
      temperature: env.OPENAI_TEMPERATURE,
      historyLimit: env.STREAM_V2_HISTORY_LIMIT ?? 20,
    },
    // Seed 004: the voice assistant.
    voice: {
      model: 'gpt-4o-mini',
      systemPrompt: env.SYSTEM_PROMPT ?? env.OPENAI_SYSTEM_PROMPT ?? voicePrompt,
      maxTokens: env.OPENAI_MAX_TOKENS,
      temperature: env.OPENAI_TEMPERATURE,
      historyLimit: env.VOICE_HISTORY_LIMIT ?? 20,
    },
  };
}

/** A client's own model, maxTokens and temperature, where it sent them, over the surface's defaults. */
export function withClientOptions(
  settings: SurfaceSettings,
  client: { model?: string | undefined; maxTokens?: number | undefined; temperature?: number | undefined },
): SurfaceSettings {
  return {
    ...settings,
    model: client.model ?? settings.model,
    maxTokens: client.maxTokens ?? settings.maxTokens,
    temperature: client.temperature ?? settings.temperature,
  };
}
