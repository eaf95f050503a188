import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('configuration', () => {
  it('runs on defaults: local SQLite, loopback, no provider', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('file:./data/parley.db');
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8000);
    expect(config.providers.openai).toBeUndefined();
    expect(config.providers.anthropic).toBeUndefined();
    expect(config.jwtSecret).toBeUndefined();
    expect(config.guestRetentionDays).toBe(30);
  });

  it('names sessions automatically unless AUTO_TITLES turns it off, refusing a value that is not a flag', () => {
    expect(loadConfig({}).autoTitles).toBe(true);
    expect(loadConfig({ AUTO_TITLES: 'false' }).autoTitles).toBe(false);
    expect(loadConfig({ AUTO_TITLES: '0' }).autoTitles).toBe(false);
    expect(() => loadConfig({ AUTO_TITLES: 'sometimes' })).toThrow(/AUTO_TITLES/);
  });

  it('names every bad variable in one error', () => {
    let thrown: unknown;
    try {
      loadConfig({ PORT: 'eighty', OPENAI_TEMPERATURE: '7', JWT_SECRET: 'short' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('OPENAI_TEMPERATURE');
    expect(message).toContain('JWT_SECRET');
  });

  it('gives each surface the defaults of its own seed', () => {
    const { surfaces } = loadConfig({});
    expect(surfaces.assistant.model).toBe('gpt-4o');
    expect(surfaces.assistant.historyLimit).toBe(100);
    expect(surfaces.aiModule).toMatchObject({ model: 'gpt-4', maxTokens: 4096, temperature: 0.7, historyLimit: 10 });
    expect(surfaces.chatSessions).toMatchObject({ model: 'claude-3-5-sonnet-latest', maxTokens: 1024, temperature: 0.7, historyLimit: 20 });
    expect(surfaces.chatSessions.systemPrompt).toContain('Repruv AI');
    expect(surfaces.voice.model).toBe('gpt-4o-mini');
  });

  it("picks the voice assistant's speech engines: OpenAI's with a key, the offline ones without, or the ones named", () => {
    expect(loadConfig({}).voice).toMatchObject({
      speechToText: { engine: 'pocketsphinx' },
      textToSpeech: { engine: 'espeak', voice: 'en-us' },
      silenceMs: 700,
      maxUtteranceSeconds: 30,
    });
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test' }).voice).toMatchObject({
      speechToText: { engine: 'openai', model: 'whisper-1' },
      textToSpeech: { engine: 'openai', model: 'tts-1', voice: 'alloy' },
    });
    // A base URL alone is usually Ollama or vLLM, which have no audio endpoints.
    expect(loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).voice.speechToText).toEqual({ engine: 'pocketsphinx' });
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test', SPEECH_TO_TEXT: 'pocketsphinx', TEXT_TO_SPEECH: 'none' }).voice).toMatchObject({
      speechToText: { engine: 'pocketsphinx' },
      textToSpeech: { engine: 'none' },
    });
    expect(() => loadConfig({ TEXT_TO_SPEECH: 'elevenlabs' })).toThrow(/TEXT_TO_SPEECH/);
    expect(() => loadConfig({ VOICE_SILENCE_MS: '5' })).toThrow(/VOICE_SILENCE_MS/);
  });

  it("prefers a surface's own seed variable and falls back to the other seed's", () => {
    const both = loadConfig({ OPENAI_MODEL: 'gpt-4-turbo', OPENAI_DEFAULT_MODEL: 'gpt-4o-mini' }).surfaces;
    expect(both.aiModule.model).toBe('gpt-4-turbo');
    expect(both.assistant.model).toBe('gpt-4o-mini');
    const onlyDefault = loadConfig({ OPENAI_DEFAULT_MODEL: 'gpt-4o-mini' }).surfaces;
    expect(onlyDefault.aiModule.model).toBe('gpt-4o-mini');
    const prompts = loadConfig({ SYSTEM_PROMPT: 'voice prompt' }).surfaces;
    expect(prompts.voice.systemPrompt).toBe('voice prompt');
    expect(prompts.assistant.systemPrompt).toBe('voice prompt');
  });

  it('accepts CLAUDE_API_KEY as seed 002 names it, and a key-less OpenAI-compatible base URL', () => {
    const config = loadConfig({ CLAUDE_API_KEY: 'sk-ant-x', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(config.providers.anthropic?.apiKey).toBe('sk-ant-x');
    expect(config.providers.openai?.baseURL).toBe('http://127.0.0.1:11434/v1');
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ PORT: '', OPENAI_API_KEY: '', CORS_ORIGIN: '' });
    expect(config.port).toBe(8000);
    expect(config.providers.openai).toBeUndefined();
    expect(config.corsOrigin).toBeUndefined();
  });
});

describe('configuration errors', () => {
  it('never print a secret or the credentials of a URL', () => {
    let message = '';
    try {
      loadConfig({ JWT_SECRET: 'too-short-secret', REDIS_URL: 'http://user:hunter2@cache:6379' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('JWT_SECRET');
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('too-short-secret');
    expect(message).not.toContain('hunter2');
  });
});
