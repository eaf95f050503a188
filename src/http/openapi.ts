import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The OpenAPI document is generated from the routes' zod schemas, so it
 * cannot drift from what the server validates. Registered before any route.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Parley', description: 'Self-hostable AI assistant server', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => markOptionalBodies(jsonSchemaTransformObject(input)),
  });
  // staticCSP: the UI's own Content-Security-Policy, which allows exactly its bundled scripts and styles.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;
interface Operation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { nullable?: boolean } }> };
}

/**
 * @fastify/swagger marks every request body required, but a route whose
 * body schema accepts null (POST /api/v1/chat/sessions: every field has a
 * default) takes no body at all; say so, or generated clients demand one.
 */
function markOptionalBodies(document: OpenApiDocument): OpenApiDocument {
  const paths = (document as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const body = operation.requestBody;
      const schemas = Object.values(body?.content ?? {}).map((media) => media.schema);
      if (body !== undefined && schemas.length > 0 && schemas.every((schema) => schema?.nullable === true)) body.required = false;
    }
  }
  return document;
}
