import type { RouteOptions } from 'fastify';

/** One registered route, as Fastify's `onRoute` hook saw it. */
export interface RegisteredRoute {
  method: string;
  /** The full path with its prefix, e.g. `/api/v1/ai/conversations/:id`. */
  url: string;
  /** Its path parameters (`:id` → `id`), in order. */
  parameters: readonly string[];
  /** The parameters that name a stored resource (`:id`, `:session_id`, `:conversationId`…). */
  idParameters: readonly string[];
  /** The body's top-level fields that name a stored resource (`conversationId`, `session_id`…), read from its schema. */
  bodyIdFields: readonly string[];
}

/** `id`, `session_id`, `conversationId`: a parameter that names a resource. */
const idParameterName = /^id$|_id$|[a-z]Id$/;

/**
 * Every route the server registers, so suites that must cover every route
 * (fuzzing, the authorization matrix) are generated from it: a new route
 * joins them by being registered. Filled by `onRoute`, which runs for every
 * route of every plugin registered after the hook, HEAD twins included.
 */
export class RouteTable {
  private readonly entries: RegisteredRoute[] = [];

  get routes(): readonly RegisteredRoute[] {
    return this.entries;
  }

  readonly record = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const parameters = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
    const idParameters = parameters.filter((name) => idParameterName.test(name));
    const bodyIdFields = bodyFields(route.schema?.body).filter((name) => idParameterName.test(name));
    for (const method of methods) this.entries.push({ method, url: route.url, parameters, idParameters, bodyIdFields });
  };
}

/** The top-level keys of a body schema that is a zod object (`shape`); none for any other schema. */
function bodyFields(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null || !('shape' in schema)) return [];
  const shape = (schema as { shape: unknown }).shape;
  return typeof shape === 'object' && shape !== null ? Object.keys(shape) : [];
}
