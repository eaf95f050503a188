import type { z } from 'zod';
import type { Conversation, MessageRole, StoredMessage, UsageTotals } from '../../store/chat-store.js';
import type {
  ChatResponse,
  conversationDetailResponseSchema,
  conversationResponseSchema,
  messageResponseSchema,
  usageResponseSchema,
} from './ai-module-responses.js';

/** Store rows in seed 001's shapes. */

type ConversationResponse = z.output<typeof conversationResponseSchema>;
type MessageResponse = z.output<typeof messageResponseSchema>;

// Tool messages come only from the OpenAI-compatible API, whose conversations this surface never lists; seed 001 has no role for them.
const roles: Record<MessageRole, MessageResponse['role']> = { user: 'USER', assistant: 'ASSISTANT', system: 'SYSTEM', tool: 'USER' };

/** What a reply cost: the context it was given plus what it produced, as chat:end's totalTokens counts it. */
function replyTokens(message: StoredMessage): number {
  return (message.promptTokens ?? 0) + (message.completionTokens ?? 0);
}

export function toChatResponse(reply: StoredMessage): ChatResponse {
  return {
    conversationId: reply.conversationId,
    messageId: reply.id,
    content: reply.content,
    model: reply.model ?? '',
    tokens: replyTokens(reply),
    createdAt: reply.createdAt,
  };
}

export function toConversationResponse(conversation: Conversation): ConversationResponse {
  return {
    id: conversation.id,
    title: conversation.title,
    userId: conversation.userId,
    messageCount: conversation.messageCount,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
  };
}

/** USER messages carry no tokens or model, as in the seed. */
export function toMessageResponse(message: StoredMessage): MessageResponse {
  const user = message.role === 'user';
  return {
    id: message.id,
    role: roles[message.role],
    content: message.content,
    tokens: user ? null : replyTokens(message),
    model: user ? null : message.model,
    status: message.status,
    createdAt: message.createdAt,
  };
}

/** A reply that failed before its first word has nothing to show. */
export function isShownMessage(message: StoredMessage): boolean {
  return !(message.status === 'failed' && message.content === '');
}

export function toConversationDetail(
  conversation: Conversation,
  messages: StoredMessage[],
): z.output<typeof conversationDetailResponseSchema> {
  return {
    id: conversation.id,
    title: conversation.title,
    userId: conversation.userId,
    messages: messages.filter(isShownMessage).map(toMessageResponse),
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
  };
}

export function toUsageResponse(usage: UsageTotals): z.output<typeof usageResponseSchema> {
  return {
    totalTokens: usage.totalTokens,
    conversationsCount: usage.conversationsCount,
    messagesCount: usage.messagesCount,
    lastUsed: usage.lastUsedAt,
  };
}
