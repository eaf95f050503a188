/**
 * CORS_ORIGIN as both @fastify/cors and Socket.IO take it: unset allows no
 * browser origin, '*' allows all, otherwise one origin or a comma-separated list.
 */
export function corsOrigin(setting: string | undefined): boolean | string[] {
  if (setting === undefined) return false;
  if (setting === '*') return true;
  // Always a list: with a single string the CORS plugin would echo it to every origin.
  return setting.split(',').map((origin) => origin.trim());
}
