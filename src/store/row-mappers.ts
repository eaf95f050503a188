/** Converts between table rows and the port's types. */
import type { Insertable } from 'kysely';
import type { ToolCall } from '../providers/chat-provider.js';
import type { ApiKey, Conversation, NewConversation, ShareLink, StoredMessage } from './chat-store.js';
import type { ApiKeyRow, ConversationRow, ConversationsTable, MessageRow, MessagesTable, ShareLinkRow } from './database-schema.js';

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    userId: row.user_id,
    surface: row.surface,
    clientKey: row.client_key,
    title: row.title,
    mode: row.mode,
    systemPrompt: row.system_prompt,
    tags: JSON.parse(row.tags) as string[],
    status: row.status,
    messageCount: row.message_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastMessageAt: row.last_message_at,
  };
}

export function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    userId: row.user_id,
    role: row.role,
    content: row.content,
    // Readers select ended messages only.
    status: row.status as StoredMessage['status'],
    tokens: row.tokens,
    model: row.model,
    provider: row.provider,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    latencyMs: row.latency_ms,
    createdAt: row.created_at,
    ...(row.tool_calls === null ? {} : { toolCalls: JSON.parse(row.tool_calls) as ToolCall[] }),
    ...(row.tool_call_id === null ? {} : { toolCallId: row.tool_call_id }),
    parentId: row.parent_id,
  };
}

export function toMessageRow(message: StoredMessage): Insertable<MessagesTable> {
  return {
    id: message.id,
    conversation_id: message.conversationId,
    user_id: message.userId,
    role: message.role,
    content: message.content,
    status: message.status,
    tokens: message.tokens,
    model: message.model,
    provider: message.provider,
    prompt_tokens: message.promptTokens,
    completion_tokens: message.completionTokens,
    time_to_first_token_ms: message.timeToFirstTokenMs,
    latency_ms: message.latencyMs,
    created_at: message.createdAt,
    tool_calls: message.toolCalls === undefined ? null : JSON.stringify(message.toolCalls),
    tool_call_id: message.toolCallId ?? null,
    parent_id: message.parentId ?? null,
  };
}

export interface NewConversationRow {
  id: string;
  userId: string;
  input: NewConversation;
  now: string;
  /** 1 when the conversation is created together with its first message. */
  messageCount: number;
  /** Its last message, when created with messages. */
  activeMessageId?: string | null;
}

export function toConversationRow({
  id,
  userId,
  input,
  now,
  messageCount,
  activeMessageId,
}: NewConversationRow): Insertable<ConversationsTable> {
  return {
    id,
    user_id: userId,
    surface: input.surface,
    client_key: input.clientKey ?? null,
    title: input.title ?? null,
    mode: input.mode ?? null,
    system_prompt: input.systemPrompt ?? null,
    tags: JSON.stringify(input.tags ?? []),
    message_count: messageCount,
    created_at: now,
    updated_at: now,
    last_message_at: messageCount > 0 ? now : null,
    // Always present: the insert is a statement template, compiled for one set of keys.
    active_message_id: activeMessageId ?? null,
  };
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return { id: row.id, userId: row.user_id, name: row.name, prefix: row.key_prefix, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export function toShareLink(row: ShareLinkRow): ShareLink {
  return {
    token: row.token,
    conversationId: row.conversation_id,
    userId: row.user_id,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
