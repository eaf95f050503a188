/** The shapes of Parley's public APIs the app reads (docs/protocols/chat-sessions.md, docs/protocols.md). */

export interface Session {
  id: string;
  title: string;
  message_count: number;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

export type MessageStatus = 'complete' | 'interrupted' | 'failed' | 'in_progress';

export interface Message {
  id: string;
  session_id: string;
  role: 'user' | 'assistant';
  content: string;
  tokens: number | null;
  latency_ms: number | null;
  created_at: string;
  status: MessageStatus;
  model: string | null;
  // The message tree (issue 15 items 1–5): absent on a server without it.
  parent_id?: string | null;
  version?: number;
  versions?: number;
  sibling_ids?: string[];
  prompt_tokens?: number | null;
  time_to_first_token_ms?: number | null;
}

export interface Summary {
  content: string;
  covers_through_message_id: string;
  created_at: string;
}

export interface MessagePage {
  messages: Message[];
  total: number;
  page: number;
  limit: number;
  total_pages: number;
  summary?: Summary | null;
}

export type StreamEvent =
  | { type: 'message_start'; session_id: string; user_message_id: string; message_id: string; model: string }
  | { type: 'delta'; content: string }
  | { type: 'done'; message: Message & { user_message_id?: string } }
  | { type: 'error'; code: string; message: string };

export interface SearchHit {
  conversationId: string;
  conversationTitle: string | null;
  surface: string;
  messageId: string;
  role: string;
  status: string;
  createdAt: string;
  snippet: string;
  highlights: [number, number][];
}

export interface ShareLink {
  token: string;
  path: string;
  conversationId: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SharedConversation {
  title: string | null;
  createdAt: string;
  messages: { role: string; content: string; status: string; model: string | null; createdAt: string }[];
}

export interface DailyUsage {
  days: { day: string; tokens: number }[];
  lifetimeTokens: number;
  todayTokens: number;
  budgets: { lifetime: number | null; daily: number | null; lifetimeLeft: number | null; todayLeft: number | null };
}

export interface AuthAnswer {
  token: string;
  expiresAt: string;
  account: { userId: string; email: string; role: string };
}
