/**
 * CORS_ORIGIN as both @fastify/cors and Socket.IO take it: unset allows no
 * browser origin, '*' allows all, otherwise one origin or a comma-separated list.
 */
export function corsOrigin(setting: string | undefined): boolean | string | string[] {
  if (setting === undefined) return false;
  if (setting === '*') return true;
  const origins = setting.split(',').map((origin) => origin.trim());
  return origins.length === 1 ? origins[0]! : origins;
}
