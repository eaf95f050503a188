import type { FastifyInstance } from 'fastify';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { demoModelName } from '../../providers/demo-chat-provider.js';

/**
 * GET /v1/models lists the models Parley's surfaces use by default. Any other
 * model name the upstream knows can still be requested.
 */
export function registerModelsRoute(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'config' | 'providers'>,
): void {
  app.get('/v1/models', async (request) => {
    await dependencies.authenticator.requireHeader(request.headers.authorization);
    const created = Math.floor(Date.now() / 1000);
    const names = listedModels(dependencies);
    return { object: 'list', data: names.map((id) => ({ id, object: 'model', created, owned_by: ownerOf(id) })) };
  });
}

/** The models GET /v1/models lists: the ones a client may choose by name on the chat-sessions API too. */
export function listedModels(dependencies: Pick<ServerDependencies, 'config' | 'providers'>): string[] {
  return dependencies.providers.demoMode ? [demoModelName] : configuredModels(dependencies);
}

function configuredModels({ config, providers }: Pick<ServerDependencies, 'config' | 'providers'>): string[] {
  const names = new Set(Object.values(config.surfaces).map((surface) => surface.model));
  return [...names].filter((name) => {
    try {
      providers.resolve(name);
      return true;
    } catch {
      return false;
    }
  });
}

function ownerOf(model: string): string {
  if (model === demoModelName) return 'parley';
  return model.startsWith('claude-') ? 'anthropic' : 'openai';
}
