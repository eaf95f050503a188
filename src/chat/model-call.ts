import { countTokens, messageOverheadTokens } from '../core/token-counter.js';
import type { ChatMessage } from '../providers/chat-provider.js';
import type { ResolvedModel } from '../providers/provider-registry.js';
import type { ChatStore } from '../store/chat-store.js';
import type { TurnObserver } from './turn-observer.js';

export interface ModelCall {
  /** What the call is for, in the metrics. */
  purpose: 'title' | 'summary';
  system: string;
  messages: ChatMessage[];
  maxTokens: number;
  signal: AbortSignal;
}

export interface ModelAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

/** Who pays for a call, and who counts it. */
export interface ModelCallBilling {
  store: ChatStore;
  observer?: TurnObserver | undefined;
  userId: string;
}

/**
 * One short request the server makes for a user (a title, a summary): the
 * whole text, its tokens as the provider reports them or, when it reports
 * none, as the tokenizer counts them, billed to the user and counted in the
 * metrics like a turn's.
 */
export async function callModel(resolved: ResolvedModel, call: ModelCall, billing: ModelCallBilling): Promise<ModelAnswer> {
  const opened = await resolved.open({
    system: call.system,
    messages: call.messages,
    maxTokens: call.maxTokens,
    temperature: 0.2,
    signal: call.signal,
  });
  let text = '';
  let usage: { promptTokens: number; completionTokens: number } | undefined;
  for await (const part of opened.parts) {
    if (part.type === 'text-delta') text += part.text;
    else if (part.type === 'usage') usage = part;
  }
  const answer = {
    text,
    promptTokens: usage?.promptTokens ?? countPrompt(call),
    completionTokens: usage?.completionTokens ?? countTokens(text),
  };
  await billing.store.recordUsage(billing.userId, answer.promptTokens, answer.completionTokens);
  billing.observer?.modelCallEnded({ purpose: call.purpose, provider: opened.provider, model: opened.model, ...answer });
  return answer;
}

function countPrompt(call: ModelCall): number {
  let tokens = countTokens(call.system) + messageOverheadTokens;
  for (const message of call.messages) tokens += countTokens(message.content) + messageOverheadTokens;
  return tokens;
}
