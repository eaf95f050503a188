import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { registerHealthRoute } from '../transports/health-route.js';
import { openAIRoutes } from '../transports/openai/openai-routes.js';
import { installErrorHandler, parleyErrorBody, sendError } from './error-handler.js';
import type { ServerDependencies } from './server-dependencies.js';
import { corsOrigin } from './cors-origin.js';
import { registerOpenApi } from './openapi.js';
import { AppError } from '../core/errors.js';

/** The HTTP server with every surface registered; listening is the caller's job. */
export async function buildServer(dependencies: ServerDependencies, logger: Logger): Promise<FastifyInstance> {
  const { config } = dependencies;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    // Request logs would name every request twice; the engine logs each turn once.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, 404, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`), parleyErrorBody);
  });
  await app.register(cors, {
    origin: corsOrigin(config.corsOrigin),
    credentials: true,
  });
  await registerOpenApi(app);
  registerHealthRoute(app, dependencies);
  await app.register(openAIRoutes, dependencies);
  return app;
}
