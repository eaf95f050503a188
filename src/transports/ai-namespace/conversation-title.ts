/** Titles of conversations chat:start creates: the first message, on one line, cut to this many characters. */
export const conversationTitleLength = 60;

export function conversationTitle(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  if (line.length <= conversationTitleLength) return line;
  return `${line.slice(0, conversationTitleLength - 1).trimEnd()}…`;
}
