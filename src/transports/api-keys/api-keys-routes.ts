import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { generateApiKey } from '../../auth/api-key-secrets.js';
import { AppError, notFound } from '../../core/errors.js';
import { resourceId } from '../../http/resource-id.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { ApiKey } from '../../store/chat-store.js';

const createKeyBody = z.object({ name: z.string().trim().min(1).max(100) });
const keyParams = z.object({ id: z.string() });
const maxKeysPerUser = 50;

/**
 * `/api/v1/api-keys`: a signed-in user creates, lists and revokes their own
 * keys. The key is returned once, at creation; only its hash is stored, and
 * a revoked key is refused from the next request on.
 */
export async function apiKeysRoutes(
  app: FastifyInstance,
  { authenticator, store }: Pick<ServerDependencies, 'authenticator' | 'store'>,
): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/api/v1/api-keys', { schema: { body: createKeyBody } }, async (request, reply) => {
    const { userId } = await authenticator.requireHeader(request.headers.authorization);
    const existing = await store.listApiKeys(userId);
    if (existing.filter((key) => key.revokedAt === null).length >= maxKeysPerUser) {
      throw new AppError('invalid_request', `A user may hold at most ${maxKeysPerUser} active keys; revoke one first`);
    }
    const secret = generateApiKey();
    const key = await store.createApiKey(userId, { name: request.body.name, keyHash: secret.hash, prefix: secret.prefix });
    return reply.status(201).send({ ...toBody(key), key: secret.key });
  });

  routes.get('/api/v1/api-keys', async (request) => {
    const { userId } = await authenticator.requireHeader(request.headers.authorization);
    return { data: (await store.listApiKeys(userId)).map(toBody) };
  });

  routes.delete('/api/v1/api-keys/:id', { schema: { params: keyParams } }, async (request, reply) => {
    const { userId } = await authenticator.requireHeader(request.headers.authorization);
    if (!(await store.revokeApiKey(userId, resourceId(request.params.id, 'API key')))) throw notFound('API key');
    return reply.status(204).send();
  });
}

function toBody(key: ApiKey) {
  return { id: key.id, name: key.name, prefix: key.prefix, createdAt: key.createdAt, revokedAt: key.revokedAt };
}
