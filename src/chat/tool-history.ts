import type { ChatMessage } from '../providers/chat-provider.js';

/**
 * The first tool message that answers no call of the assistant message
 * before it (other tool results may sit between), or undefined. Both model
 * APIs refuse such a history; Parley refuses it before calling upstream, in
 * the words of the API the client speaks.
 */
export function unansweredToolResult(messages: ChatMessage[]): ChatMessage | undefined {
  let calls = new Set<string>();
  for (const message of messages) {
    if (message.role === 'tool') {
      if (message.toolCallId === undefined || !calls.has(message.toolCallId)) return message;
    } else calls = new Set(message.toolCalls?.map((call) => call.id));
  }
  return undefined;
}
