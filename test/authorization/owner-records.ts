import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';

/** What the owner has stored, by the kind of record; every id is one an intruder will try. */
export interface OwnerRecords {
  ownerId: string;
  /** A string in every message the owner sent, so any leak of their content is found by searching for it. */
  marker: string;
  ids: Record<string, string>;
  /** A key the owner created and revoked. */
  revokedApiKey: string;
}

/**
 * Creates one record of every kind through the public APIs, as the owner:
 * a seed 001 conversation and job, an API key, a seed 002 session, seed 003
 * sessions over SSE and Socket.IO, and a chat:start conversation (and its reply's turn) on /ai.
 */
export async function createOwnerRecords(baseUrl: string, ownerId: string, token: string): Promise<OwnerRecords> {
  const marker = `owner-secret-${randomUUID()}`;
  const call = ownerCalls(baseUrl, token);
  const chat = await call('POST', '/api/v1/ai/chat', { message: `${marker} chat` });
  const job = await call('POST', '/api/v1/ai/jobs/completions', { message: `${marker} job` });
  await jobFinished(call, String(job.jobId));
  const apiKey = await call('POST', '/api/v1/api-keys', { name: 'kept' });
  const revoked = await call('POST', '/api/v1/api-keys', { name: 'revoked' });
  await call('DELETE', `/api/v1/api-keys/${String(revoked.id)}`);
  const session = await call('POST', '/api/v1/chat/sessions', { title: 'owned' });
  const sent = await call('POST', '/api/v1/chat/messages', { session_id: session.id, content: `${marker} session` });
  const streamSession = randomUUID();
  await call('POST', '/api/v2/ai/chat/stream', { message: `${marker} stream`, sessionId: streamSession });
  const socketSession = randomUUID();
  await socketTurn(baseUrl, '/', { auth: {} }, 'ai:chat', { message: `${marker} socket`, sessionId: socketSession, token }, 'ai:complete');
  const started = await socketTurn(baseUrl, '/ai', { auth: { token } }, 'chat:start', { message: `${marker} start` }, 'chat:end');
  return {
    ownerId,
    marker,
    revokedApiKey: String(revoked.key),
    ids: {
      'seed 001 conversation': String(chat.conversationId),
      'seed 001 job': String(job.jobId),
      'API key': String(apiKey.id),
      'seed 002 session': String(session.id),
      // Edits, regenerations and branch switches name messages.
      'seed 002 message': String(sent.user_message_id),
      'seed 002 reply': String(sent.id),
      'seed 003 SSE session': streamSession,
      'seed 003 socket session': socketSession,
      'chat:start conversation': String((started as { conversationId: string }).conversationId),
      // Kept in the turn log for TURN_LOG_RETENTION_SECONDS: the resume routes and turn:resume take it.
      'chat:start reply (its turn)': String((started as { messageId: string }).messageId),
    },
  };
}

type OwnerCall = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

function ownerCalls(baseUrl: string, token: string): OwnerCall {
  return async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the owner's ${method} ${path} answered ${response.status}: ${text}`);
    return response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

/** Waits until the job has its result, so the owner's records do not change while the matrix runs. */
async function jobFinished(call: OwnerCall, jobId: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const job = await call('GET', `/api/v1/ai/jobs/${jobId}`);
    if (job.state === 'completed') return;
    if (job.state === 'failed') throw new Error(`the owner's job failed: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the owner's job did not finish");
}

/** One event emitted on a fresh connection; resolves with the payload of `until` (the last one before it for chat:start's id). */
async function socketTurn(
  baseUrl: string,
  namespace: string,
  options: { auth: Record<string, string> },
  event: string,
  payload: unknown,
  until: string,
): Promise<unknown> {
  const socket: Socket = io(`${baseUrl}${namespace}`, { forceNew: true, transports: ['websocket'], reconnection: false, ...options });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${until} after ${event}`)), 5000);
      let conversation: unknown;
      socket.on('chat:conversation', (value: unknown) => (conversation = value));
      socket.on(until, (value: unknown) => {
        clearTimeout(timer);
        resolve(conversation === undefined ? value : { ...(conversation as object), ...(value as object) });
      });
      for (const failure of ['ai:error', 'chat:error', 'connect_error']) {
        socket.on(failure, (value: unknown) => reject(new Error(`the owner's ${event} failed: ${JSON.stringify(value)}`)));
      }
      socket.emit(event, payload);
    });
  } finally {
    socket.close();
  }
}
