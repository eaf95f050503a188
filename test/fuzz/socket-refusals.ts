import { errorCodes } from '../../src/core/errors.js';
import type { NamespaceEvents } from '../../src/app/socket-surfaces.js';

type Surface = NamespaceEvents['surface'];

/** How one refusal event of a surface is shaped: the field with the human text, and the optional fields it may add. */
interface RefusalShape {
  text: 'error' | 'message';
  optional: readonly string[];
  /** ai_error echoes the refused request's id (null when the payload had no valid one). */
  requestId?: true;
}

/**
 * The events each surface refuses an event with (src/transports/<surface>/…-events.ts).
 * Every one carries a catalogued `code` and a human text, and nothing else but the listed fields.
 */
export const refusalEvents: Record<Surface, Record<string, RefusalShape>> = {
  'stream-v2': { 'ai:error': { text: 'error', optional: ['sessionId', 'field', 'retryAfter'] } },
  voice: { error: { text: 'message', optional: ['field', 'retryAfter'] } },
  'ai-namespace': {
    ai_error: { text: 'error', optional: ['field', 'retryAfter'], requestId: true },
    'chat:error': { text: 'message', optional: ['field', 'retryAfter'] },
  },
};

const knownCodes = new Set<string>(errorCodes);
/** A V8 stack frame, as `error.stack` prints it. */
const stackFrame = /\n\s+at .+[(:]/;

/**
 * Why a refusal event is not well formed for its surface, or undefined when it is.
 * internal_error counts as malformed: it is what a handler's bug becomes, never a refusal of a payload.
 */
export function malformedRefusal(shape: RefusalShape, args: unknown[]): string | undefined {
  if (args.length !== 1) return `${args.length} arguments`;
  const payload = args[0];
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return `not an object: ${JSON.stringify(payload)}`;
  const fields = payload as Record<string, unknown>;
  const allowed = new Set<string>(['code', shape.text, ...shape.optional, ...(shape.requestId ? ['requestId'] : [])]);
  const extra = Object.keys(fields).filter((key) => !allowed.has(key));
  if (extra.length > 0) return `unexpected fields ${extra.join(', ')}`;
  if (typeof fields.code !== 'string' || !knownCodes.has(fields.code)) return `unknown code ${String(fields.code)}`;
  if (fields.code === 'internal_error') return 'internal_error: a handler failed unexpectedly';
  const text = fields[shape.text];
  if (typeof text !== 'string' || text === '') return `no ${shape.text}`;
  if (stackFrame.test(text)) return `a stack trace in ${shape.text}`;
  if ('field' in fields && typeof fields.field !== 'string') return `field is ${typeof fields.field}`;
  if ('sessionId' in fields && typeof fields.sessionId !== 'string') return `sessionId is ${typeof fields.sessionId}`;
  if ('retryAfter' in fields && !(typeof fields.retryAfter === 'number' && fields.retryAfter > 0))
    return `retryAfter ${String(fields.retryAfter)}`;
  if (shape.requestId) {
    const { requestId } = fields;
    if (!('requestId' in fields)) return 'no requestId';
    if (requestId !== null && typeof requestId !== 'string' && typeof requestId !== 'number') return `requestId is ${typeof requestId}`;
  }
  return undefined;
}

/** The refusal shapes of every surface on one namespace (seeds 003 and 004 share the default one). */
export function refusalsOn(namespace: string, table: readonly NamespaceEvents[]): Map<string, RefusalShape> {
  const shapes = new Map<string, RefusalShape>();
  for (const entry of table) {
    if (entry.namespace !== namespace) continue;
    for (const [event, shape] of Object.entries(refusalEvents[entry.surface])) shapes.set(event, shape);
  }
  return shapes;
}
