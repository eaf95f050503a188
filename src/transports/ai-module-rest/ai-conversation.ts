import { ownedConversation } from '../../http/owned-conversation.js';
import type { ChatStore } from '../../store/chat-store.js';
import type { ChatBody } from './ai-module-requests.js';

/** The chat body with its conversationId, if any, checked as the caller's and in canonical form. */
export async function withOwnConversation(store: ChatStore, userId: string, body: ChatBody): Promise<ChatBody> {
  if (body.conversationId === undefined) return body;
  const conversation = await ownedConversation(store, userId, body.conversationId, 'Conversation');
  return { ...body, conversationId: conversation.id };
}
