import { countTokens as countO200kTokens } from 'gpt-tokenizer';

/**
 * Token counts when the provider reports none (the demo model, an interrupted
 * stream, a compatible server without usage). o200k_base is exact for current
 * OpenAI models and a close estimate for the rest. Called once per message,
 * never per streamed token.
 */
export function countTokens(text: string): number {
  return text === '' ? 0 : countO200kTokens(text);
}

/** What a chat message costs beyond its text (role markers), as OpenAI counts it. */
export const messageOverheadTokens = 4;
