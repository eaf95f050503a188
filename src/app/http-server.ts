import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { apiKeysRoutes } from '../transports/api-keys/api-keys-routes.js';
import { registerHealthRoute } from '../transports/health-route.js';
import { registerReadyRoute } from '../transports/ready-route.js';
import { drainUnreadBodies } from '../http/unread-body-drain.js';
import { registerMetricsRoute } from '../transports/metrics-route.js';
import { voiceAssistantPage } from '../transports/voice/voice-assistant-page.js';
import { webAppPage } from '../transports/web-app/web-app-page.js';
import { chatSessionsRoutes } from '../transports/chat-sessions/chat-sessions-routes.js';
import { aiModuleRoutes } from '../transports/ai-module-rest/ai-module-routes.js';
import { openAIRoutes } from '../transports/openai/openai-routes.js';
import { anthropicRoutes } from '../transports/anthropic/anthropic-routes.js';
import { searchRoutes } from '../transports/search/search-route.js';
import { shareLinkRoutes } from '../transports/sharing/share-link-routes.js';
import { conversationExportRoutes } from '../transports/conversations/conversation-export-routes.js';
import { dailyUsageRoute } from '../transports/usage/daily-usage-route.js';
import { accountRoutes } from '../transports/accounts/account-routes.js';
import { adminRoutes } from '../transports/admin/admin-routes.js';
import { streamV2Routes } from '../transports/stream-v2/stream-v2-routes.js';
import { installErrorHandler, parleyErrorBody, sendError } from '../http/error-handler.js';
import { openAIErrorBody } from '../transports/openai/openai-error-body.js';
import { toHttpError } from '../http/http-errors.js';
import type { ServerDependencies } from '../http/server-dependencies.js';
import { corsOrigin } from '../http/cors-origin.js';
import { registerOpenApi } from '../http/openapi.js';
import { AppError } from '../core/errors.js';
import type { RouteTable } from '../http/route-table.js';

/**
 * The HTTP server with every surface registered; listening is the caller's
 * job. `routes` records every route registered (see RouteTable).
 */
export async function buildServer(dependencies: ServerDependencies, logger: Logger, routes?: RouteTable): Promise<FastifyInstance> {
  const { config } = dependencies;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    // Request logs would name every request twice; the engine logs each turn once.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    // An undecodable path (`/%`) or an over-long parameter fails before any route: still our JSON error, not Fastify's,
    // in OpenAI's shape under /v1.
    frameworkErrors: (thrown, request, reply) => {
      const { status, error } = toHttpError(thrown);
      sendError(reply, status, error, request.url.startsWith('/v1/') ? openAIErrorBody : parleyErrorBody);
    },
  });
  if (routes !== undefined) app.addHook('onRoute', routes.record);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  acceptEmptyJsonBodies(app);
  drainUnreadBodies(app);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, 404, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`), parleyErrorBody);
  });
  // Security headers on every response (HSTS, nosniff, frame and referrer policies, a strict CSP).
  await app.register(helmet);
  await app.register(cors, {
    origin: corsOrigin(config.corsOrigin),
    credentials: true,
  });
  await registerOpenApi(app);
  registerHealthRoute(app, dependencies);
  registerReadyRoute(app, dependencies);
  dependencies.tracing?.instrument(app);
  registerMetricsRoute(app, dependencies);
  await app.register(openAIRoutes, dependencies);
  await app.register(anthropicRoutes, dependencies);
  await app.register(aiModuleRoutes, { ...dependencies, prefix: '/api/v1/ai' });
  await app.register(apiKeysRoutes, dependencies);
  searchRoutes(app, dependencies);
  shareLinkRoutes(app, dependencies);
  conversationExportRoutes(app, dependencies);
  dailyUsageRoute(app, dependencies);
  accountRoutes(app, dependencies);
  adminRoutes(app, dependencies);
  await app.register(chatSessionsRoutes, dependencies);
  await app.register(streamV2Routes, dependencies);
  await app.register(voiceAssistantPage);
  await app.register(webAppPage);
  return app;
}

/**
 * Many HTTP clients send `Content-Type: application/json` on every request,
 * DELETE included; an empty body then means "no body", not a parse error.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parseJson(request, body.toString(), done);
  });
}
