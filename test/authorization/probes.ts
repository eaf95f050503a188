import { io, type Socket } from 'socket.io-client';
import type { RegisteredRoute } from '../../src/http/route-table.js';

/** What one request or event got back: `outcome` is compared across ids, `text` searched for leaks. */
export interface Probe {
  /** Status (or final event) and error code and message, with the id the probe sent replaced by `<id>`. */
  outcome: string;
  /** Everything the server sent back. */
  text: string;
}

/**
 * Fields every turn-taking body needs, so a probe gets past validation to
 * the ownership check (zod objects drop the fields a route does not take).
 */
const plausibleBody = {
  message: 'probe',
  content: 'probe',
  text: 'probe',
  name: 'probe',
  title: 'probe',
  model: 'gpt-4o',
  messages: [{ role: 'user', content: 'probe' }],
};

/** The route with every path parameter set to `id` and, for a body, every id field too (or to `bodyId`). */
export async function probeRoute(
  baseUrl: string,
  route: RegisteredRoute,
  token: string | undefined,
  id: string,
  bodyId: string = id,
): Promise<Probe> {
  const path = route.url.replace(/:([A-Za-z0-9_]+)/g, () => encodeURIComponent(id));
  const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
  const body = hasBody ? { ...plausibleBody, ...Object.fromEntries(route.bodyIdFields.map((field) => [field, bodyId])) } : undefined;
  const response = await fetch(`${baseUrl}${path}`, {
    method: route.method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const streamed = response.headers.get('content-type')?.includes('text/event-stream') ?? false;
  const answer = streamed ? streamEnd(text) : errorOf(text);
  return { outcome: withoutId(`${response.status} ${answer}`, id), text };
}

/** How an event stream ended: with an error event (its code) or not. */
function streamEnd(text: string): string {
  const errorLine = text.split('\n').find((line) => line.startsWith('data:') && line.includes('"error"'));
  return errorLine === undefined ? 'stream' : `stream ${errorOf(errorLine.slice(5))}`;
}

/** The code and message of a JSON error in any surface's shape; '' for a body that is not one. */
function errorOf(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : body;
    const message = error.message ?? (typeof body.error === 'string' ? body.error : undefined);
    if (message === undefined && error.code === undefined) return '';
    return `${String(error.code ?? error.type ?? '')} ${String(message ?? '')}`;
  } catch {
    return '';
  }
}

function withoutId(text: string, id: string): string {
  return text.split(id).join('<id>').split(encodeURIComponent(id)).join('<id>');
}

/** An event's answers end with its surface's error or end event: `chat:end`, `chat:error`, `ai:complete`, `ai:error`. */
const finalEvent = /(^|:)(error|end|complete)$/;

/**
 * One event on a fresh connection to `namespace`, its id field set to `id`.
 * The token travels in the handshake (how /ai authenticates) and in the
 * payload (how seed 003's ai:chat does); each surface reads its own.
 */
export async function probeEvent(
  baseUrl: string,
  namespace: string,
  event: string,
  idField: string,
  token: string | undefined,
  id: string,
): Promise<Probe> {
  const socket: Socket = io(`${baseUrl}${namespace}`, {
    forceNew: true,
    transports: ['websocket'],
    reconnection: false,
    auth: token === undefined ? {} : { token },
  });
  const received: unknown[] = [];
  try {
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('silence'), 5000);
      const finish = (outcome: string) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      socket.on('connect_error', (error: Error & { data?: { code?: string } }) =>
        finish(`connect_error ${error.data?.code} ${error.message}`),
      );
      socket.onAny((name: string, payload: unknown) => {
        received.push([name, payload]);
        if (!finalEvent.test(name)) return;
        const failure = payload as { code?: string; error?: string; message?: string } | undefined;
        finish(name.endsWith('error') ? `${name} ${failure?.code} ${failure?.message ?? failure?.error}` : name);
      });
      socket.emit(event, { ...plausibleBody, [idField]: id, token });
    });
    return { outcome: withoutId(outcome, id), text: JSON.stringify(received) };
  } finally {
    socket.close();
  }
}

/**
 * A handshake whose `auth` names a record (`idField`, the voice assistant's
 * conversationId): refused with connect_error, or connected, which is the
 * answer the owner must get for at least one of their ids.
 */
export async function probeHandshake(
  baseUrl: string,
  namespace: string,
  idField: string,
  token: string | undefined,
  id: string,
): Promise<Probe> {
  const socket: Socket = io(`${baseUrl}${namespace}`, {
    forceNew: true,
    transports: ['websocket'],
    reconnection: false,
    auth: { ...(token === undefined ? {} : { token }), [idField]: id },
  });
  try {
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('silence'), 5000);
      const finish = (outcome: string) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      socket.on('connect', () => finish('connected'));
      socket.on('connect_error', (error: Error & { data?: { code?: string; field?: string } }) =>
        finish(`connect_error ${error.data?.code} ${error.data?.field} ${error.message}`),
      );
    });
    return { outcome: withoutId(outcome, id), text: outcome };
  } finally {
    socket.close();
  }
}
