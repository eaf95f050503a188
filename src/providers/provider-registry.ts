import { AppError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import type { ChatProvider, ChatRequest, EmbeddingProvider, ModerationProvider, ProviderStreamPart } from './chat-provider.js';
import { DemoChatProvider, demoModelName } from './demo-chat-provider.js';
import { OpenAIChatProvider } from './openai-chat-provider.js';
import { ProviderPolicy, type BreakerState, type ProviderCounts } from './resilience/provider-policy.js';

export interface OpenedReply {
  parts: AsyncIterable<ProviderStreamPart>;
  /** The model that is answering: the fallback's when the requested one was unavailable. */
  model: string;
  /** The provider that is answering, as stored on the reply, e.g. 'openai (fallback from claude-3-5-sonnet-latest)'. */
  provider: string;
}

export interface ResolvedModel {
  /** The model name to send upstream, without any `provider/` prefix. */
  model: string;
  provider: string;
  /**
   * Opens the reply stream under the provider's retries, timeouts and circuit
   * breaker; resolves once the first part has arrived.
   */
  open(request: Omit<ChatRequest, 'model'>): Promise<OpenedReply>;
}

interface Route {
  providerName: ProviderName;
  model: string;
}

/** Failures after which a configured fallback model is tried. */
const fallbackCodes = new Set([
  'provider_unavailable',
  'provider_error',
  'provider_unreachable',
  'provider_timeout',
  'provider_rate_limited',
]);

type ProviderName = 'openai' | 'anthropic' | 'demo';
const explicitPrefixes: Record<string, ProviderName> = { openai: 'openai', anthropic: 'anthropic', demo: 'demo' };
const displayNames: Record<ProviderName, string> = { openai: 'OpenAI', anthropic: 'Anthropic', demo: 'The demo model' };
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
 * one configured, the demo model is never used silently. FALLBACK_MODELS
 * names, per model or per provider, a model to use while it is unavailable.
 */
export interface ProviderHealth {
  provider: ProviderName;
  breaker: BreakerState;
  counts: ProviderCounts;
}

export class ProviderRegistry {
  readonly demoMode: boolean;
  private readonly policies: Partial<Record<ProviderName, ProviderPolicy>>;
  private readonly openai: OpenAIChatProvider | undefined;
  private readonly demo = new DemoChatProvider();
  private readonly fallbackModels: Map<string, string>;

  /**
   * A provider's client library is loaded only when that provider is
   * configured: the Anthropic SDK alone holds about 10 MB a process without
   * ANTHROPIC_API_KEY would never use.
   */
  static async open(config: Pick<Config, 'providers' | 'resilience'>): Promise<ProviderRegistry> {
    const { anthropic } = config.providers;
    if (anthropic === undefined) return new ProviderRegistry(config, undefined);
    const { AnthropicChatProvider } = await import('./anthropic-chat-provider.js');
    return new ProviderRegistry(config, new AnthropicChatProvider(anthropic));
  }

  private constructor(config: Pick<Config, 'providers' | 'resilience'>, anthropic: ChatProvider | undefined) {
    const { openai } = config.providers;
    const { resilience } = config;
    this.openai = openai === undefined ? undefined : new OpenAIChatProvider(openai);
    this.demoMode = openai === undefined && anthropic === undefined;
    this.fallbackModels = resilience.fallbackModels;
    const policy = (provider: ChatProvider | undefined, name: ProviderName, breaker = { threshold: 0, cooldownSeconds: 0 }) =>
      provider === undefined ? undefined : new ProviderPolicy(provider, displayNames[name], resilience, breaker);
    this.policies = {
      openai: policy(this.openai, 'openai', resilience.breakers.openai),
      anthropic: policy(anthropic, 'anthropic', resilience.breakers.anthropic),
      demo: policy(this.demo, 'demo'),
    };
  }

  resolve(requestedModel: string): ResolvedModel {
    const primary = this.route(requestedModel);
    const primaryPolicy = this.policyFor(primary, requestedModel);
    const fallbackModel =
      this.fallbackModels.get(requestedModel) ?? this.fallbackModels.get(primary.model) ?? this.fallbackModels.get(primary.providerName);
    return {
      model: primary.model,
      provider: primary.providerName,
      open: async (request) => {
        try {
          const parts = await primaryPolicy.open({ ...request, model: primary.model });
          return { parts, model: primary.model, provider: primary.providerName };
        } catch (error) {
          if (fallbackModel === undefined || request.signal.aborted || !(error instanceof AppError && fallbackCodes.has(error.code))) {
            throw error;
          }
          const fallback = this.route(fallbackModel);
          const parts = await this.policyFor(fallback, fallbackModel).open({ ...request, model: fallback.model });
          return { parts, model: fallback.model, provider: `${fallback.providerName} (fallback from ${primary.model})` };
        }
      },
    };
  }

  /** Each configured provider's breaker and what its requests met, for the metrics and the admin view. */
  health(): ProviderHealth[] {
    return (Object.entries(this.policies) as [ProviderName, ProviderPolicy | undefined][]).flatMap(([provider, policy]) =>
      policy === undefined ? [] : [{ provider, breaker: policy.breakerState, counts: policy.counts }],
    );
  }

  /**
   * Embeddings go to the OpenAI-compatible provider; in demo mode to the demo
   * model's; undefined when only Anthropic (which has no embeddings API) is configured.
   */
  embeddings(): EmbeddingProvider | undefined {
    return this.demoMode ? this.demo : this.openai;
  }

  /** OpenAI's moderation endpoint, when the OpenAI-compatible provider is configured. */
  moderation(): ModerationProvider | undefined {
    return this.openai;
  }

  private policyFor(route: Route, requestedModel: string): ProviderPolicy {
    const policy = this.policies[route.providerName];
    if (policy === undefined) {
      throw new AppError(
        'model_not_available',
        `The model '${requestedModel}' needs the ${route.providerName} provider, which is not configured: ${setupHints[route.providerName]}`,
        { field: 'model' },
      );
    }
    return policy;
  }

  private route(requestedModel: string): Route {
    const slash = requestedModel.indexOf('/');
    const prefix = slash > 0 ? explicitPrefixes[requestedModel.slice(0, slash)] : undefined;
    if (prefix !== undefined) return { providerName: prefix, model: requestedModel.slice(slash + 1) };
    if (this.demoMode || requestedModel === demoModelName) return { providerName: 'demo', model: demoModelName };
    if (requestedModel.startsWith('claude-')) return { providerName: 'anthropic', model: requestedModel };
    return { providerName: 'openai', model: requestedModel };
  }
}
