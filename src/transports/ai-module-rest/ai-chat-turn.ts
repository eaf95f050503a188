import type { StartRequest } from '../../chat/turns.js';
import type { ChatEvent } from '../../chat/chat-events.js';
import type { AppError } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';
import { withClientOptions, type SurfaceSettings } from '../../config/surface-defaults.js';
import type { ConversationTarget } from '../../store/chat-store.js';
import { conversationTitle } from '../../chat/conversation-titles.js';
import type { ChatBody } from './ai-module-requests.js';
import type { ChatResponse } from './ai-module-responses.js';
import { toChatResponse } from './ai-module-mappers.js';

export type ChatTurnOutcome = { kind: 'finished'; response: ChatResponse } | { kind: 'failed'; error: AppError } | { kind: 'cancelled' };

/** Runs a turn: through the turn log for POST /chat, straight on the engine for a job (which owns its turn already). */
export type StartTurn = (turn: StartRequest) => AsyncIterable<ChatEvent>;

/**
 * One non-streaming seed-001 turn, as POST /chat and a completion job run
 * it: the reply is stored, then answered whole. The caller has checked that
 * a given conversationId is the user's seed-001 conversation.
 */
export async function runAiChatTurn(
  start: StartTurn,
  settings: SurfaceSettings,
  identity: Identity,
  body: ChatBody,
  /** A completion job, which takes none of the user's concurrent-reply slots. */
  background = false,
): Promise<ChatTurnOutcome> {
  const events = start({
    identity,
    target: chatTarget(body),
    content: body.message,
    options: withClientOptions(settings, body),
    // Counted against seed 001's budget when the request arrived (ai-module-routes.ts).
    client: { bucket: 'none', background },
  });
  let outcome: ChatTurnOutcome = { kind: 'cancelled' };
  // The stored reply holds the whole text, so the deltas need not be collected.
  for await (const event of events) {
    if (event.type === 'turn-finish') outcome = { kind: 'finished', response: toChatResponse(event.message) };
    else if (event.type === 'turn-error') outcome = { kind: 'failed', error: event.error };
  }
  return outcome;
}

function chatTarget(body: ChatBody): ConversationTarget {
  if (body.conversationId !== undefined) return { kind: 'existing', conversationId: body.conversationId };
  return { kind: 'new', create: { surface: 'ai-module', title: conversationTitle(body.message) } };
}
