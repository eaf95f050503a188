import { countTokens, messageOverheadTokens } from '../core/token-counter.js';
import type { ChatMessage } from '../providers/chat-provider.js';
import type { ResolvedModel } from '../providers/provider-registry.js';

export interface ModelCall {
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

/**
 * One short request the server makes on its own account (a title, a
 * summary): the whole text, and its tokens as the provider reports them or,
 * when it reports none, as the tokenizer counts them, for billing.
 */
export async function callModel(resolved: ResolvedModel, call: ModelCall): Promise<ModelAnswer> {
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
  return {
    text,
    promptTokens: usage?.promptTokens ?? countPrompt(call),
    completionTokens: usage?.completionTokens ?? countTokens(text),
  };
}

function countPrompt(call: ModelCall): number {
  let tokens = countTokens(call.system) + messageOverheadTokens;
  for (const message of call.messages) tokens += countTokens(message.content) + messageOverheadTokens;
  return tokens;
}
