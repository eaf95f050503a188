import { notFound } from '../core/errors.js';
import type { ChatStore, Conversation } from '../store/chat-store.js';
import { resourceId } from './resource-id.js';

/**
 * The caller's conversation with this id, whichever API created it:
 * conversations are one store seen through several APIs, and only listings
 * are per API. Unknown ids, malformed ids and other users' conversations all
 * answer the same 404, so a caller learns nothing about ids that are not
 * theirs. `what` names it in the API's own words ("Chat session").
 */
export async function ownedConversation(store: ChatStore, userId: string, id: string, what: string): Promise<Conversation> {
  const conversation = await store.getConversation(userId, resourceId(id, what));
  if (conversation === undefined) throw notFound(what);
  return conversation;
}
