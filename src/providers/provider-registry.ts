import { AppError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import { AnthropicChatProvider } from './anthropic-chat-provider.js';
import type { ChatProvider, EmbeddingProvider } from './chat-provider.js';
import { DemoChatProvider, demoModelName } from './demo-chat-provider.js';
import { OpenAIChatProvider } from './openai-chat-provider.js';

export interface ResolvedModel {
  provider: ChatProvider;
  /** The model name to send upstream, without any `provider/` prefix. */
  model: string;
}

type ProviderName = 'openai' | 'anthropic' | 'demo';
const explicitPrefixes: Record<string, ProviderName> = { openai: 'openai', anthropic: 'anthropic', demo: 'demo' };
const setupHints: Record<ProviderName, string> = {
  openai: 'set OPENAI_API_KEY or OPENAI_BASE_URL',
  anthropic: 'set ANTHROPIC_API_KEY (or CLAUDE_API_KEY)',
  demo: '',
};

/**
 * Chooses the provider by model name: `claude-*` goes to Anthropic, every
 * other name to the OpenAI-compatible adapter (gpt-*, o*, text-embedding-*,
 * and whatever a compatible server such as Ollama calls its models). An
 * explicit `openai/…`, `anthropic/…` or `demo/…` prefix always wins; other
 * slashes (OpenRouter's `meta-llama/…`) are part of the model name.
 * With no provider configured at all, every model is the demo model; with
 * one configured, the demo model is never used silently.
 */
export class ProviderRegistry {
  readonly demoMode: boolean;
  private readonly providers: Partial<Record<ProviderName, ChatProvider>>;
  private readonly openai: OpenAIChatProvider | undefined;
  private readonly demo = new DemoChatProvider();

  constructor(config: Pick<Config, 'providers'>, fetchImplementation?: typeof fetch) {
    const { openai, anthropic } = config.providers;
    this.openai = openai === undefined ? undefined : new OpenAIChatProvider(openai, fetchImplementation);
    this.demoMode = openai === undefined && anthropic === undefined;
    this.providers = {
      openai: this.openai,
      anthropic: anthropic === undefined ? undefined : new AnthropicChatProvider(anthropic, fetchImplementation),
      demo: this.demo,
    };
  }

  resolve(requestedModel: string): ResolvedModel {
    const { providerName, model } = this.route(requestedModel);
    const provider = this.providers[providerName];
    if (provider === undefined) {
      throw new AppError(
        'model_not_available',
        `The model '${requestedModel}' needs the ${providerName} provider, which is not configured: ${setupHints[providerName]}`,
        {
          field: 'model',
        },
      );
    }
    return { provider, model };
  }

  /**
   * Embeddings go to the OpenAI-compatible provider; in demo mode to the demo
   * model's; undefined when only Anthropic (which has no embeddings API) is configured.
   */
  embeddings(): EmbeddingProvider | undefined {
    return this.demoMode ? this.demo : this.openai;
  }

  private route(requestedModel: string): { providerName: ProviderName; model: string } {
    const slash = requestedModel.indexOf('/');
    const prefix = slash > 0 ? explicitPrefixes[requestedModel.slice(0, slash)] : undefined;
    if (prefix !== undefined) return { providerName: prefix, model: requestedModel.slice(slash + 1) };
    if (this.demoMode || requestedModel === demoModelName) return { providerName: 'demo', model: demoModelName };
    if (requestedModel.startsWith('claude-')) return { providerName: 'anthropic', model: requestedModel };
    return { providerName: 'openai', model: requestedModel };
  }
}
