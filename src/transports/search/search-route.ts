import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalidRequest } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { searchTerms, snippetOf } from './message-snippet.js';

const querySchema = z.object({
  q: z.string().max(500),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const hitSchema = z.object({
  conversationId: z.string(),
  conversationTitle: z.string().nullable(),
  surface: z.string(),
  messageId: z.string(),
  role: z.string(),
  status: z.string(),
  createdAt: z.string(),
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number(), z.number()])),
});

/**
 * GET /api/v1/search?q=…: full-text search over all of the caller's
 * messages, on every surface (SQLite FTS5 or Postgres full-text behind the
 * store port). Every word must match, the last one also as the start of a
 * word; newest first. Each hit carries a snippet and where the matches are
 * in it, so a page can mark them without trusting any HTML.
 */
export function searchRoutes(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'rateLimiter' | 'store'>,
): void {
  const schema = {
    summary: "Search the caller's messages",
    tags: ['search'],
    querystring: querySchema,
    response: { 200: z.object({ query: z.string(), results: z.array(hitSchema) }) },
  };
  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/search', { schema }, async (request) => {
    const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
    const terms = searchTerms(request.query.q);
    if (terms.length === 0) throw invalidRequest('q: give at least one word to search for', 'q');
    await dependencies.rateLimiter.consume('default', identity, request.ip);
    const hits = await dependencies.store.searchMessages(identity.userId, { terms, limit: request.query.limit });
    return {
      query: request.query.q,
      results: hits.map(({ message, conversation }) => {
        const snippet = snippetOf(message.content, terms);
        return {
          conversationId: conversation.id,
          conversationTitle: conversation.title,
          surface: conversation.surface,
          messageId: message.id,
          role: message.role,
          status: message.status,
          createdAt: message.createdAt,
          snippet: snippet.text,
          highlights: snippet.highlights,
        };
      }),
    };
  });
}
