import { call, getJson, sendJson } from './http';
import type { Message, MessagePage, Session } from './types';

/** Seed 002's chat-sessions API, plus issue 15's rename, branches and regenerate (docs/protocols/chat-sessions.md). */
const api = '/api/v1/chat';
const streaming = { Accept: 'text/event-stream' };
/** How many of a conversation's latest messages the app shows. */
export const historyLimit = 100;

export async function listSessions(): Promise<Session[]> {
  return (await getJson<{ sessions: Session[] }>(`${api}/sessions?limit=100`)).sessions;
}

export async function createSession(): Promise<Session> {
  // No title: the server names the conversation after its first reply.
  return (await (await sendJson(`${api}/sessions`, 'POST', { mode: 'general' })).json()) as Session;
}

export async function renameSession(sessionId: string, title: string): Promise<Session> {
  return (await (await sendJson(`${api}/sessions/${encodeURIComponent(sessionId)}`, 'PATCH', { title })).json()) as Session;
}

export async function deleteSession(sessionId: string, keepalive = false): Promise<void> {
  await call(`${api}/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', keepalive });
}

/** The latest page of the conversation's active branch. */
export async function readHistory(sessionId: string): Promise<MessagePage> {
  const path = `${api}/messages/${encodeURIComponent(sessionId)}?limit=${historyLimit}`;
  const first = await getJson<MessagePage>(path);
  if (first.total_pages <= 1) return first;
  return getJson<MessagePage>(`${path}&page=${first.total_pages}`);
}

export interface SendOptions {
  model?: string | undefined;
  editOf?: string | undefined;
  signal?: AbortSignal;
}

export function sendMessage(sessionId: string, content: string, options: SendOptions = {}): Promise<Response> {
  const body: Record<string, string> = { session_id: sessionId, content };
  if (options.model) body.model = options.model;
  if (options.editOf) body.edit_of = options.editOf;
  return sendJson(`${api}/messages?stream=true`, 'POST', body, streaming);
}

export function regenerateReply(messageId: string, model?: string): Promise<Response> {
  return sendJson(`${api}/replies/${encodeURIComponent(messageId)}/regenerate?stream=true`, 'POST', model ? { model } : {}, streaming);
}

export function resumeReply(messageId: string): Promise<Response> {
  return call(`${api}/replies/${encodeURIComponent(messageId)}/stream`);
}

export async function stopReply(messageId: string): Promise<void> {
  await call(`${api}/replies/${encodeURIComponent(messageId)}/stop`, { method: 'POST' });
}

export async function switchBranch(sessionId: string, messageId: string): Promise<void> {
  await sendJson(`${api}/sessions/${encodeURIComponent(sessionId)}/branch`, 'PUT', { message_id: messageId });
}

export type { Message };
