/**
 * Tool use in the fake upstream, the same for both wire formats: offered
 * tools and a user message, the model calls a tool with the user's words;
 * given the tool's result, it answers with it. The checks are the ones each
 * API makes, so a request whose tool history is not in the provider's own
 * format fails as it would against the real API.
 */
import { lastUserText, textOf, tokenize } from './fake-text.js';

export interface PlannedToolCall {
  id: string;
  name: string;
  /** The JSON arguments, and the fragments they are streamed in. */
  arguments: string;
  fragments: string[];
}

/** The reply the fake gives when it calls no tool: the tool's result when it has one, else the user's words. */
export function defaultReply(body: any): string {
  const result = lastToolResult(body);
  return result === undefined ? `You said: ${lastUserText(body)}` : `The tool said: ${result}`;
}

/** The text of the last message when it is a tool's result (OpenAI `tool` message, Anthropic `tool_result` blocks). */
export function lastToolResult(body: any): string | undefined {
  const last = Array.isArray(body?.messages) ? body.messages.at(-1) : undefined;
  if (last?.role === 'tool') return textOf(last.content);
  if (last?.role !== 'user' || !Array.isArray(last.content)) return undefined;
  const results = last.content.filter((block: any) => block?.type === 'tool_result');
  return results.length === 0 ? undefined : results.map((block: any) => textOf(block.content)).join(' ');
}

/** The tool the model calls for this request, if any: the one it must call, else the first offered. */
export function plannedToolCall(body: any, idPrefix: string, chosenName: string | undefined): PlannedToolCall | undefined {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  if (tools.length === 0 || lastToolResult(body) !== undefined) return undefined;
  const first = tools[0];
  const name = chosenName ?? first?.function?.name ?? first?.name;
  const args = JSON.stringify({ text: lastUserText(body) });
  return { id: `${idPrefix}${fakeId(args)}`, name, arguments: args, fragments: tokenize(args) };
}

function fakeId(seed: string): string {
  let hash = 0;
  for (let i = 0; i < seed.length; i++) hash = (Math.imul(hash, 31) + seed.charCodeAt(i)) >>> 0;
  return hash.toString(36).padStart(8, '0');
}

/** OpenAI's checks of tool messages; the error message, or undefined when the history is well formed. */
export function openAIToolHistoryError(messages: any[]): string | undefined {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message?.role === 'assistant' && Array.isArray(message.tool_calls)) {
      const answered = new Set<string>();
      for (let j = i + 1; j < messages.length && messages[j]?.role === 'tool'; j++) answered.add(messages[j].tool_call_id);
      const missing = message.tool_calls.map((call: any) => call?.id).filter((id: string) => !answered.has(id));
      if (missing.length > 0) {
        return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`;
      }
      for (const call of message.tool_calls) {
        if (call?.type !== 'function' || typeof call.function?.arguments !== 'string') return `Invalid 'messages[${i}].tool_calls'.`;
      }
    }
    if (message?.role === 'tool') {
      let j = i - 1;
      while (j >= 0 && messages[j]?.role === 'tool') j--;
      const calls: any[] = messages[j]?.role === 'assistant' && Array.isArray(messages[j].tool_calls) ? messages[j].tool_calls : [];
      if (!calls.some((call) => call?.id === message.tool_call_id)) {
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      }
    }
  }
  return undefined;
}

/** Anthropic's checks of tool_use and tool_result blocks. */
export function anthropicToolHistoryError(messages: any[]): string | undefined {
  const blocksOf = (message: any, type: string): any[] =>
    Array.isArray(message?.content) ? message.content.filter((block: any) => block?.type === type) : [];
  for (let i = 0; i < messages.length; i++) {
    const uses = blocksOf(messages[i], 'tool_use');
    const results = blocksOf(messages[i + 1], 'tool_result');
    const answered = new Set(results.map((block) => block.tool_use_id));
    const missing = uses.map((block) => block.id).filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    for (const use of uses) {
      if (typeof use.input !== 'object' || use.input === null || Array.isArray(use.input))
        return `messages.${i}: tool_use.input: Input should be an object`;
    }
    const offered = new Set(blocksOf(messages[i - 1], 'tool_use').map((block) => block.id));
    for (const result of blocksOf(messages[i], 'tool_result')) {
      if (!offered.has(result.tool_use_id)) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${result.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
  }
  return undefined;
}
