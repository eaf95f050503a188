import type { StoredMessage } from '../../src/store/chat-store.js';
import type { FakeUpstream } from '../support/fake-upstream.js';
import type { TestServer } from '../support/test-server.js';

/** The stored messages of a user's seed-003 session, found by its sessionId ([] when there is none). */
export async function storedSessionMessages(server: TestServer, userId: string, sessionId: string): Promise<StoredMessage[]> {
  const { items } = await server.app.store.listConversations(userId, 'stream-v2', { page: 1, limit: 100 });
  const conversation = items.find((item) => item.clientKey === sessionId);
  if (conversation === undefined) return [];
  return (await server.app.store.listMessages(userId, conversation.id, { page: 1, limit: 100 })).items;
}

/** The user and assistant messages of the upstream's last request, as "role: content". */
export function lastUpstreamMessages(fake: FakeUpstream): string[] {
  const body = fake.requests.at(-1)?.body as { messages: { role: string; content: string }[] };
  return body.messages.filter((message) => message.role !== 'system').map((message) => `${message.role}: ${message.content}`);
}
