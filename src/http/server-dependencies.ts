import type { Authenticator } from '../auth/authenticator.js';
import type { Config } from '../config/config.js';
import type { ChatEngine } from '../core/chat-engine.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import type { ChatStore } from '../store/chat-store.js';

/** What every transport is built from; assembled once in src/app.ts. */
export interface ServerDependencies {
  config: Config;
  engine: ChatEngine;
  store: ChatStore;
  providers: ProviderRegistry;
  authenticator: Authenticator;
}
