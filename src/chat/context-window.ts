import { messageOverheadTokens } from '../core/token-counter.js';

/** Context windows of well-known model families, longest prefix first. */
const knownContextWindows: [prefix: string, tokens: number][] = [
  ['gpt-4o', 128_000],
  ['gpt-4.1', 1_047_576],
  ['gpt-4-turbo', 128_000],
  ['gpt-4-32k', 32_768],
  ['gpt-4', 8_192],
  ['gpt-3.5-turbo', 16_385],
  ['gpt-5', 400_000],
  ['o1', 200_000],
  ['o3', 200_000],
  ['o4', 200_000],
  ['claude-', 200_000],
];

/** Unknown models (a local Ollama model, say) get the configured fallback, DEFAULT_CONTEXT_WINDOW. */
export function contextWindowFor(model: string, fallback: number): number {
  for (const [prefix, tokens] of knownContextWindows) if (model.startsWith(prefix)) return tokens;
  return fallback;
}

/**
 * Keeps the newest messages whose tokens fit the budget, dropping the oldest
 * first. `tokens` of a stored message is its content's count.
 */
export function fitToBudget<T extends { tokens: number }>(history: T[], budget: number): { kept: T[]; tokens: number } {
  let used = 0;
  let first = history.length;
  while (first > 0) {
    const cost = history[first - 1]!.tokens + messageOverheadTokens;
    if (used + cost > budget) break;
    used += cost;
    first -= 1;
  }
  return { kept: first === 0 ? history : history.slice(first), tokens: used };
}
