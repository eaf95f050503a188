import type { TurnObserver } from './turn-observer.js';
import type { Logger } from '../core/logger.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import type { ChatStore } from '../store/chat-store.js';
import type { BackgroundTasks } from './background-tasks.js';
import type { CompletedTurn } from './chat-engine.js';
import { callModel } from './model-call.js';

/** Titles are one line of at most this many characters: a conversation's first message cut to it, or what the model proposes. */
export const conversationTitleLength = 60;

/** The title POST /api/v1/chat/sessions gives a session the client left untitled; only such a session gets an automatic one. */
export const defaultSessionTitle = 'New Chat';

export function conversationTitle(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  if (line.length <= conversationTitleLength) return line;
  return `${line.slice(0, conversationTitleLength - 1).trimEnd()}…`;
}

const titlePrompt =
  `You name conversations. Answer with a short title (at most ${conversationTitleLength} characters) for the conversation ` +
  'the user shows you, in its language: a few plain words, no quotes, no final punctuation, nothing else.';

/** How much of each message the title request quotes: a title needs the gist, not the whole text. */
const quotedCharacters = 2000;

export interface ConversationTitlesDependencies {
  store: ChatStore;
  providers: ProviderRegistry;
  tasks: BackgroundTasks;
  logger: Logger;
  /** Counts the title calls' tokens (metrics). */
  observer?: TurnObserver | undefined;
}

/**
 * Automatic titles (AUTO_TITLES): after the first complete reply of a
 * chat-sessions conversation still called "New Chat", one short call to the
 * turn's model names it. It runs after the turn has ended, as a background
 * task, and stores the title only if nobody renamed the session meanwhile.
 * Its tokens are billed to the user, like the turn's. The demo model's title
 * is the first message, cut to length.
 */
export class ConversationTitles {
  constructor(private readonly dependencies: ConversationTitlesDependencies) {}

  /** The engine's afterTurn: decides at once, on what the turn already read, so most turns cost nothing more. */
  afterTurn(turn: CompletedTurn): void {
    const { conversation, history } = turn;
    if (conversation.surface !== 'chat-sessions' || conversation.title !== defaultSessionTitle) return;
    if (history.some((message) => message.role === 'assistant' && message.status === 'complete')) return;
    this.dependencies.tasks.run('conversation title', (signal) => this.title(turn, signal));
  }

  private async title(turn: CompletedTurn, signal: AbortSignal): Promise<void> {
    const { store, providers, logger } = this.dependencies;
    const userId = turn.identity.userId;
    const resolved = providers.resolve(turn.model);
    let title: string;
    if (resolved.provider === 'demo') title = conversationTitle(turn.userMessage.content);
    else {
      const answer = await callModel(
        resolved,
        { purpose: 'title', system: titlePrompt, messages: [{ role: 'user', content: transcript(turn) }], maxTokens: 32, signal },
        { store, observer: this.dependencies.observer, userId },
      );
      title = cleanTitle(answer.text);
    }
    if (title === '') return;
    const renamed = await store.renameConversation(userId, turn.conversation.id, title, { onlyIfTitle: defaultSessionTitle });
    logger.debug({ conversationId: turn.conversation.id, stored: renamed !== undefined }, 'automatic title');
  }
}

function transcript(turn: CompletedTurn): string {
  const quote = (text: string) => (text.length > quotedCharacters ? `${text.slice(0, quotedCharacters)}…` : text);
  return `User: ${quote(turn.userMessage.content)}\n\nAssistant: ${quote(turn.reply.content)}`;
}

/** The model's answer as a title: its first non-empty line, without a "Title:" label, quotes or a final period, cut to length. */
export function cleanTitle(answer: string): string {
  const line = answer.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  const unlabelled = line.trim().replace(/^(?:#+\s*)?(?:\*\*)?title\s*:\s*/i, '');
  // Twice: a period may sit outside the quotes or inside them.
  return conversationTitle(stripQuotes(stripQuotes(unlabelled).replace(/[.。]+$/, '')));
}

function stripQuotes(text: string): string {
  return text.replace(/^["'“”‘’«»*`]+|["'“”‘’«»*`]+$/g, '').trim();
}
