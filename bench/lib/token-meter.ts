import { percentile } from './stats.js';

/**
 * Every token of the benchmark reply holds exactly one `~`, a byte that no
 * framing (SSE, JSON, Socket.IO) escapes or adds. Counting that byte counts
 * tokens whatever a relay does to the events: one event per token, several
 * tokens coalesced into one event, different JSON around them.
 */
export const TOKEN_MARK = '~';
const TOKEN_MARK_BYTE = 0x7e;

/**
 * A reply of `tokens` fake tokens ("w~", " w~", …): the fake streams one event per word.
 * As a user message offered a tool, the fake echoes it as `{"text":"w~ … w~"}` in one
 * argument fragment per word, each with one mark: `tokens` tokens again.
 */
export function benchReply(tokens: number): string {
  return Array.from({ length: tokens }, () => 'w~').join(' ');
}

export function countTokenMarks(chunk: Buffer): number {
  let count = 0;
  for (let at = chunk.indexOf(TOKEN_MARK_BYTE); at !== -1; at = chunk.indexOf(TOKEN_MARK_BYTE, at + 1)) count++;
  return count;
}

export function countTokenMarksInText(text: string): number {
  let count = 0;
  for (let at = text.indexOf(TOKEN_MARK); at !== -1; at = text.indexOf(TOKEN_MARK, at + 1)) count++;
  return count;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

/**
 * Client-side latencies of many streams: time to first token and the gap
 * before each later token. Tokens that arrive together in one read get a gap
 * of 0, kept as a count rather than as array entries, so a burst of 200
 * tokens costs one number, not 200.
 */
export class TokenMeter {
  readonly ttfts: number[] = [];
  readonly gaps: number[] = [];
  zeroGaps = 0;
  tokens = 0;
  streams = 0;
  errors = 0;
  /** Streams that ended well but waited longer than `stallMs` between two tokens. */
  stalledStreams = 0;
  firstError: string | undefined;

  /**
   * With `expectedTokens`, a stream that ends with fewer or more tokens counts as failed;
   * with `stallMs`, one whose longest gap between tokens is over it counts as stalled.
   */
  constructor(
    readonly expectedTokens?: number,
    readonly stallMs?: number,
  ) {}

  begin(): StreamTracker {
    return new StreamTracker(this);
  }

  fail(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }

  ttft(): LatencySummary {
    const sorted = [...this.ttfts].sort((a, b) => a - b);
    return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  }

  /** Percentiles over every gap, the zero gaps included. */
  gap(): LatencySummary {
    const sorted = [...this.gaps].sort((a, b) => a - b);
    const count = sorted.length + this.zeroGaps;
    const at = (fraction: number) => {
      if (count === 0) return Number.NaN;
      const index = Math.min(count - 1, Math.max(0, Math.ceil(fraction * count) - 1));
      return index < this.zeroGaps ? 0 : sorted[index - this.zeroGaps]!;
    };
    return { count, p50: at(0.5), p99: at(0.99) };
  }
}

export class StreamTracker {
  readonly #meter: TokenMeter;
  readonly #start = performance.now();
  #last = -1;
  #longestGap = 0;
  tokens = 0;

  constructor(meter: TokenMeter) {
    this.#meter = meter;
  }

  /** `count` tokens arrived now. */
  add(count: number): void {
    if (count === 0) return;
    const now = performance.now();
    const meter = this.#meter;
    if (this.#last < 0) meter.ttfts.push(now - this.#start);
    else {
      const gap = now - this.#last;
      meter.gaps.push(gap);
      if (gap > this.#longestGap) this.#longestGap = gap;
    }
    meter.zeroGaps += count - 1;
    meter.tokens += count;
    this.tokens += count;
    this.#last = now;
  }

  done(): void {
    const expected = this.#meter.expectedTokens;
    if (expected !== undefined && this.tokens !== expected) {
      this.#meter.fail(new Error(`a stream ended after ${this.tokens} of ${expected} tokens`));
    } else {
      this.#meter.streams++;
      const stallMs = this.#meter.stallMs;
      if (stallMs !== undefined && this.#longestGap > stallMs) this.#meter.stalledStreams++;
    }
  }
}
