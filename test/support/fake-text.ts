/**
 * Text helpers shared by the fake OpenAI and Anthropic endpoints. Both APIs
 * carry message content as a string or as an array of `{ type: 'text', text }`
 * blocks, so one reader serves both.
 */

/**
 * Splits reply text into the tokens the fake streams: words with their leading
 * whitespace, e.g. "I can help" -> ["I", " can", " help"]. Trailing whitespace
 * becomes its own token so that joining the tokens always gives the text back.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/** The plain text of a `content` field (string or array of blocks); non-text blocks are skipped. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join(' ');
}

/** The text of the last `user` message of a chat request body, or '' when there is none. */
export function lastUserText(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  return textOf(messages.findLast((message) => message?.role === 'user')?.content);
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** A rough prompt size: the words of every message plus Anthropic's top-level `system`. */
export function promptWords(body: any): number {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const texts = messages.map((message) => textOf(message?.content));
  return countWords([textOf(body?.system), ...texts].join(' '));
}
