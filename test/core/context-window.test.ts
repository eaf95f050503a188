import { describe, expect, it } from 'vitest';
import { contextWindowFor, fitToBudget } from '../../src/chat/context-window.js';

describe('context window', () => {
  it('knows the windows of common models and falls back for unknown ones', () => {
    expect(contextWindowFor('gpt-4o-mini', 8192)).toBe(128_000);
    expect(contextWindowFor('gpt-4', 1000)).toBe(8192);
    expect(contextWindowFor('claude-3-5-sonnet-latest', 1000)).toBe(200_000);
    expect(contextWindowFor('llama3.2', 4096)).toBe(4096);
  });

  it('drops the oldest messages first until the rest fit', () => {
    const history = [{ tokens: 100 }, { tokens: 50 }, { tokens: 30 }, { tokens: 10 }];
    // Each message also costs 4 tokens of overhead: the newest three cost 54 + 34 + 14 = 102.
    expect(fitToBudget(history, 102)).toEqual({ kept: [{ tokens: 50 }, { tokens: 30 }, { tokens: 10 }], tokens: 102 });
    expect(fitToBudget(history, 101)).toEqual({ kept: [{ tokens: 30 }, { tokens: 10 }], tokens: 48 });
  });

  it('keeps nothing when even the newest message does not fit', () => {
    expect(fitToBudget([{ tokens: 500 }], 100).kept).toEqual([]);
  });
});
