import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { resourceId } from '../../http/resource-id.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { ShareLink } from '../../store/chat-store.js';

/** How many messages a shared conversation shows. */
const sharedMessageLimit = 1000;
const tags = ['sharing'];

const conversationParams = z.object({ conversationId: z.string().max(100) });
const tokenParams = z.object({ token: z.string().max(100) });

const shareLinkSchema = z.object({
  token: z.string(),
  /** Where the read-only conversation is served, relative to the server. */
  path: z.string(),
  conversationId: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

const sharedConversationSchema = z.object({
  title: z.string().nullable(),
  createdAt: z.string(),
  messages: z.array(
    z.object({ role: z.string(), content: z.string(), status: z.string(), model: z.string().nullable(), createdAt: z.string() }),
  ),
});

/**
 * Read-only share links: the owner of a conversation (on any API) makes a
 * link, lists and revokes them; anyone holding a live link reads the
 * conversation's messages, signed in or not, and nothing else (no user or
 * conversation id). A token is 192 random bits, so links cannot be guessed.
 */
export function shareLinkRoutes(app: FastifyInstance, { authenticator, store }: Pick<ServerDependencies, 'authenticator' | 'store'>): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    '/api/v1/conversations/:conversationId/share-links',
    { schema: { summary: 'Make a read-only share link', tags, params: conversationParams, response: { 201: shareLinkSchema } } },
    async (request, reply) => {
      const { userId } = await authenticator.requireHeader(request.headers.authorization);
      const conversationId = resourceId(request.params.conversationId, 'Conversation');
      const link = await store.createShareLink(userId, conversationId, randomBytes(24).toString('base64url'));
      return reply.status(201).send(toBody(link));
    },
  );

  routes.get(
    '/api/v1/conversations/:conversationId/share-links',
    {
      schema: {
        summary: "A conversation's share links",
        tags,
        params: conversationParams,
        response: { 200: z.object({ data: z.array(shareLinkSchema) }) },
      },
    },
    async (request) => {
      const { userId } = await authenticator.requireHeader(request.headers.authorization);
      const conversationId = resourceId(request.params.conversationId, 'Conversation');
      return { data: (await store.listShareLinks(userId, conversationId)).map(toBody) };
    },
  );

  routes.delete(
    '/api/v1/share-links/:token',
    { schema: { summary: 'Revoke a share link', tags, params: tokenParams } },
    async (request, reply) => {
      const { userId } = await authenticator.requireHeader(request.headers.authorization);
      if (!(await store.revokeShareLink(userId, request.params.token))) throw notFound('Share link');
      return reply.status(204).send();
    },
  );

  routes.get(
    '/api/v1/shared/:token',
    {
      schema: {
        summary: 'Read a shared conversation (no sign-in)',
        tags,
        params: tokenParams,
        response: { 200: sharedConversationSchema },
      },
    },
    async (request) => {
      const shared = await store.readSharedConversation(request.params.token, sharedMessageLimit);
      if (shared === undefined) throw notFound('Shared conversation');
      return {
        title: shared.conversation.title,
        createdAt: shared.conversation.createdAt,
        messages: shared.messages.map(({ role, content, status, model, createdAt }) => ({ role, content, status, model, createdAt })),
      };
    },
  );
}

function toBody(link: ShareLink) {
  return {
    token: link.token,
    path: `/api/v1/shared/${link.token}`,
    conversationId: link.conversationId,
    createdAt: link.createdAt,
    revokedAt: link.revokedAt,
  };
}
