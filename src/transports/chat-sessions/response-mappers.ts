import type { Conversation, ConversationSummary, Page, StoredMessage } from '../../store/chat-store.js';
import { pageMeta } from '../../http/pagination.js';
import type { MessageResponse, SentMessageResponse, SummaryResponse } from './message-schemas.js';
import type { SessionResponse } from './session-schemas.js';

/** A stored conversation as seed 002's session. */
export function toSessionResponse(conversation: Conversation): SessionResponse {
  return {
    id: conversation.id,
    user_id: conversation.userId,
    title: conversation.title,
    mode: conversation.mode,
    context_tags: conversation.tags,
    system_prompt: conversation.systemPrompt,
    status: conversation.status,
    message_count: conversation.messageCount,
    created_at: conversation.createdAt,
    updated_at: conversation.updatedAt,
    last_message_at: conversation.lastMessageAt,
  };
}

/** A stored message as seed 002's message. */
export function toMessageResponse(message: StoredMessage): MessageResponse {
  return {
    id: message.id,
    session_id: message.conversationId,
    user_id: message.userId,
    // Sessions keep their system prompt on the session, so their messages are only user and assistant turns.
    role: message.role === 'assistant' ? 'assistant' : 'user',
    content: message.content,
    tokens: message.tokens,
    latency_ms: message.latencyMs,
    created_at: message.createdAt,
    status: message.status,
    model: message.model,
    ...versionFields(message, message.siblingIds ?? [message.id]),
    prompt_tokens: message.role === 'assistant' ? message.promptTokens : null,
    time_to_first_token_ms: message.role === 'assistant' ? message.timeToFirstTokenMs : null,
  };
}

export function toSummaryResponse(summary: ConversationSummary | undefined): SummaryResponse | null {
  if (summary === undefined) return null;
  return { content: summary.content, covers_through_message_id: summary.coversThroughMessageId, created_at: summary.createdAt };
}

/**
 * A turn's reply, answering the user message `userMessageId` (its parent),
 * with its versions as the turn began (turn-start replySiblingIds).
 */
export function toSentMessageResponse(reply: StoredMessage, userMessageId: string, siblingIds: string[] = [reply.id]): SentMessageResponse {
  return { ...toMessageResponse({ ...reply, parentId: reply.parentId ?? userMessageId, siblingIds }), user_message_id: userMessageId };
}

function versionFields(message: StoredMessage, siblingIds: string[]) {
  // The port always includes the message itself; a message alone has itself only.
  const ids = siblingIds.includes(message.id) ? siblingIds : [message.id];
  return { parent_id: message.parentId ?? null, version: ids.indexOf(message.id) + 1, versions: ids.length, sibling_ids: ids };
}

/** The paging fields every list answer carries next to its items. */
export function pageFields(page: Page, total: number) {
  const meta = pageMeta(page, total);
  return { total: meta.total, page: meta.page, limit: meta.limit, total_pages: meta.totalPages };
}
