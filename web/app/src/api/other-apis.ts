import { call, getJson, sendJson } from './http';
import type { AuthAnswer, DailyUsage, SearchHit, SharedConversation, ShareLink } from './types';

/** Search, share links, export and import, usage, accounts and models (docs/protocols.md). */

export async function searchMessages(query: string): Promise<SearchHit[]> {
  return (await getJson<{ results: SearchHit[] }>(`/api/v1/search?q=${encodeURIComponent(query)}&limit=20`)).results;
}

export async function exportConversation(conversationId: string, format: 'markdown' | 'json'): Promise<Blob> {
  return (await call(`/api/v1/conversations/${encodeURIComponent(conversationId)}/export?format=${format}`)).blob();
}

export async function importConversation(exported: unknown): Promise<{ conversationId: string }> {
  return (await (await sendJson('/api/v1/conversations/import', 'POST', exported)).json()) as { conversationId: string };
}

export async function listShareLinks(conversationId: string): Promise<ShareLink[]> {
  return (await getJson<{ data: ShareLink[] }>(`/api/v1/conversations/${encodeURIComponent(conversationId)}/share-links`)).data;
}

export async function createShareLink(conversationId: string): Promise<ShareLink> {
  return (await (
    await call(`/api/v1/conversations/${encodeURIComponent(conversationId)}/share-links`, { method: 'POST' })
  ).json()) as ShareLink;
}

export async function revokeShareLink(token: string): Promise<void> {
  await call(`/api/v1/share-links/${encodeURIComponent(token)}`, { method: 'DELETE' });
}

export async function readShared(token: string): Promise<SharedConversation> {
  // Read signed out: no token is sent, so a link works for anyone.
  const response = await fetch(`/api/v1/shared/${encodeURIComponent(token)}`);
  if (!response.ok)
    throw new Error(response.status === 404 ? 'This link does not exist or was revoked.' : `The server answered ${response.status}`);
  return (await response.json()) as SharedConversation;
}

export function readDailyUsage(days = 30): Promise<DailyUsage> {
  return getJson<DailyUsage>(`/api/v1/usage/daily?days=${days}`);
}

export async function listModels(): Promise<string[]> {
  return (await getJson<{ data: { id: string }[] }>('/v1/models')).data.map((model) => model.id);
}

export function whoAmI(): Promise<{ userId: string; local: boolean }> {
  return getJson('/api/v1/auth/me');
}

export async function authenticate(kind: 'signin' | 'signup', email: string, password: string): Promise<AuthAnswer> {
  return (await (await sendJson(`/api/v1/auth/${kind}`, 'POST', { email, password })).json()) as AuthAnswer;
}
