/** Words as search sees them: runs of letters and digits, lowercase (what FTS5's unicode61 and Postgres's `simple` index). */
export function searchTerms(query: string): string[] {
  return (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, maxTerms).map((term) => term.slice(0, maxTermLength));
}

const maxTerms = 8;
const maxTermLength = 64;
/** Characters of context kept on each side of the first match. */
const contextChars = 60;

export interface Snippet {
  text: string;
  /** [start, end) offsets in `text` of each match: the page marks them, so no HTML travels (model output stays text). */
  highlights: [number, number][];
}

/**
 * A short piece of a message around its first match, with every match in
 * it located: a term matches at the start of a word, the last term as a
 * prefix, the others whole, as the index matched them.
 */
export function snippetOf(content: string, terms: string[]): Snippet {
  const matches = matchesIn(content, terms);
  const first = matches[0]?.[0] ?? 0;
  const start = first <= contextChars ? 0 : content.lastIndexOf(' ', first - contextChars) + 1 || first - contextChars;
  const end = Math.min(content.length, Math.max(first + contextChars * 2, start + contextChars * 3));
  const prefix = start > 0 ? '…' : '';
  const text = `${prefix}${content.slice(start, end)}${end < content.length ? '…' : ''}`;
  const shift = prefix.length - start;
  const highlights = matches
    .filter(([from, to]) => from >= start && to <= end)
    .map(([from, to]): [number, number] => [from + shift, to + shift]);
  return { text, highlights };
}

function matchesIn(content: string, terms: string[]): [number, number][] {
  const found: [number, number][] = [];
  const words = /[\p{L}\p{N}]+/gu;
  for (let word = words.exec(content); word !== null; word = words.exec(content)) {
    const lower = word[0].toLowerCase();
    const hit = terms.some((term, index) => (index === terms.length - 1 ? lower.startsWith(term) : lower === term));
    if (hit) found.push([word.index, word.index + word[0].length]);
  }
  return found;
}
