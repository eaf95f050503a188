import { notFound } from '../core/errors.js';

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids in paths are UUIDs. A malformed one cannot name anything, so it
 * answers 404 like an unknown one, rather than a 400 that tells a prober
 * which ids are well formed.
 */
export function resourceId(value: string, what: string): string {
  if (!uuidPattern.test(value)) throw notFound(what);
  return value.toLowerCase();
}
