import type { TurnObserver } from './turn-observer.js';
import { toAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { countTokens, messageOverheadTokens } from '../core/token-counter.js';
import type { ChatMessage } from '../providers/chat-provider.js';
import type { ResolvedModel } from '../providers/provider-registry.js';
import type { ChatStore, ConversationSummary, StoredMessage } from '../store/chat-store.js';
import { fitToBudget } from './context-window.js';
import { callModel } from './model-call.js';

/** How the summary is introduced to the model, before the messages that still fit. */
export const summaryPrefix = 'Summary of the earlier conversation: ';

/** A summary never takes more than this, nor more than a quarter of the history's budget. */
const maxSummaryTokens = 500;

const summaryPrompt =
  'You keep the memory of a long conversation between a user and an assistant. Write a concise summary of it for the ' +
  'assistant that continues it: what the user wants, the facts, names, numbers and decisions so far, and open questions. ' +
  'When a summary so far is given, fold the new messages into it. Answer with the summary only.';

export interface SummaryRequest {
  userId: string;
  conversationId: string;
  /** The history beginTurn read, oldest first, which does not fit `budget` whole. */
  history: StoredMessage[];
  /** Tokens the history may take in the turn's request. */
  budget: number;
  /** The model's context window: the summary request must fit it too. */
  window: number;
  /** The turn's model: it writes the summary too. */
  resolved: ResolvedModel;
  signal: AbortSignal;
}

export interface FittedHistory {
  /** Sent before `kept`, when there is one. */
  summary: ConversationSummary | undefined;
  kept: StoredMessage[];
  /** Tokens of the summary's message and of the kept messages. */
  tokens: number;
}

/**
 * Long conversations: the oldest messages that no longer fit the model's
 * context window are summarized by the model instead of being dropped
 * unseen. The engine calls this only when trimming happens, so a turn that
 * fits costs nothing more. A stored summary is reused while it covers
 * everything left out and still fits beside the newer messages; when more
 * falls out, the old summary and the newly left-out messages make a new
 * one, keeping only half of the budget's newest messages so that the next
 * turns can reuse it. A summary that fails leaves the turn as it would have
 * been without: the oldest messages dropped, a warning logged.
 */
export class HistorySummaries {
  constructor(private readonly dependencies: { store: ChatStore; logger: Logger; observer?: TurnObserver | undefined }) {}

  async fit(request: SummaryRequest): Promise<FittedHistory> {
    try {
      return await this.fitWithSummary(request);
    } catch (error) {
      if (!request.signal.aborted) {
        const failure = toAppError(error);
        this.dependencies.logger.warn(
          { conversationId: request.conversationId, model: request.resolved.model, code: failure.code, error: failure.message },
          'could not summarize the earlier conversation; its oldest messages are left out',
        );
      }
      const { kept, tokens } = fitToBudget(request.history, request.budget);
      return { summary: undefined, kept, tokens };
    }
  }

  private async fitWithSummary(request: SummaryRequest): Promise<FittedHistory> {
    const { store } = this.dependencies;
    const { history, budget } = request;
    const latest = await store.latestSummary(request.userId, request.conversationId);
    // Only a summary ending on this history describes it: one made on another branch (an edit or a
    // regenerated reply since), or ending before what was read, is not built on.
    const stored = latest !== undefined && history.some((message) => message.id === latest.coversThroughMessageId) ? latest : undefined;
    const after = (summary: ConversationSummary | undefined) =>
      summary === undefined ? history : history.filter((message) => message.id > summary.coversThroughMessageId);
    if (stored !== undefined) {
      const reused = fitBeside(stored, after(stored), budget);
      if (reused !== undefined) return reused;
    }
    const summaryLimit = Math.min(maxSummaryTokens, Math.floor(budget / 4));
    const { kept } = fitToBudget(history, Math.floor((budget - summaryLimit - noteOverheadTokens) / 2));
    const firstKept = kept[0]?.id;
    const leftOut = after(stored).filter((message) => firstKept === undefined || message.id < firstKept);
    if (summaryLimit <= 0 || leftOut.length === 0) throw new Error('the history budget leaves no room for a summary');
    const content = await this.summarize(request, stored, leftOut, summaryLimit);
    const summary = await store.saveSummary(request.userId, {
      conversationId: request.conversationId,
      coversThroughMessageId: leftOut.at(-1)!.id,
      content,
      tokens: countTokens(content),
    });
    return fitBeside(summary, kept, budget) ?? { summary, ...fitToBudget(kept, budget - summaryTokens(summary)) };
  }

  private async summarize(
    request: SummaryRequest,
    previous: ConversationSummary | undefined,
    messages: StoredMessage[],
    limit: number,
  ): Promise<string> {
    if (request.resolved.provider === 'demo') return demoSummary(previous, messages, limit);
    // The request itself must fit the window: the oldest left-out messages go first if it would not.
    const room = request.window - summaryPromptTokens - limit - (previous === undefined ? 0 : previous.tokens);
    const quoted = fitToBudget(messages, room).kept;
    if (quoted.length === 0) throw new Error('the messages to summarize do not fit the model');
    const lines = quoted.map((message) => `${speaker(message)}: ${message.content}`);
    const content = (previous === undefined ? '' : `Summary so far:\n${previous.content}\n\n`) + `New messages:\n${lines.join('\n\n')}`;
    const answer = await callModel(
      request.resolved,
      { purpose: 'summary', system: summaryPrompt, messages: [{ role: 'user', content }], maxTokens: limit, signal: request.signal },
      { store: this.dependencies.store, observer: this.dependencies.observer, userId: request.userId },
    );
    const summary = answer.text.trim();
    if (summary === '') throw new Error('the model answered an empty summary');
    return summary;
  }
}

/** The summary as context: a system note before the messages that still fit. */
export function summaryMessage(summary: ConversationSummary): ChatMessage {
  return { role: 'system', content: `${summaryPrefix}${summary.content}` };
}

/** The prompt, its message and the request's own message around the quoted ones. */
const summaryPromptTokens = countTokens(summaryPrompt) + 3 * messageOverheadTokens + 10;

const noteOverheadTokens = countTokens(summaryPrefix) + messageOverheadTokens;

function summaryTokens(summary: ConversationSummary): number {
  return summary.tokens + noteOverheadTokens;
}

/** The summary with every message after it, when they all fit the budget together. */
function fitBeside(summary: ConversationSummary, messages: StoredMessage[], budget: number): FittedHistory | undefined {
  const room = budget - summaryTokens(summary);
  if (room < 0) return undefined;
  const { kept, tokens } = fitToBudget(messages, room);
  if (kept.length < messages.length) return undefined;
  return { summary, kept, tokens: tokens + summaryTokens(summary) };
}

function speaker(message: StoredMessage): string {
  if (message.role === 'assistant') return 'Assistant';
  return message.role === 'tool' ? 'Tool result' : 'User';
}

/** The demo model's summary: what each message began with, deterministic, cut to the limit from the oldest end. */
function demoSummary(previous: ConversationSummary | undefined, messages: StoredMessage[], limit: number): string {
  const said = messages.map((message) => {
    const line = message.content.replace(/\s+/g, ' ').trim();
    return `${speaker(message)} said "${line.length > 60 ? `${line.slice(0, 59)}…` : line}"`;
  });
  let summary = [...(previous === undefined ? [] : [previous.content]), ...said].join('; ');
  while (countTokens(summary) > limit && summary.length > 1) summary = `…${summary.slice(Math.ceil(summary.length / 4))}`;
  return summary;
}
