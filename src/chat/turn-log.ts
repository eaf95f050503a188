import type { ChatEvent } from './chat-events.js';

/** Someone waiting for the log to grow: woken with nothing, it reads again. */
type Waiter = () => void;

/**
 * One turn's events in the order the engine yielded them, numbered from 1:
 * the sequence number is an event's id on every surface (SSE `id:`, the
 * socket resume event's `after`). Live and late readers read the same log.
 *
 * While the turn runs the log holds the engine's event objects as they are
 * (appending costs one array slot, nothing is copied). When it ends, its
 * text deltas are folded into one string and their end offsets, so an
 * ended turn kept for late readers costs about its text, not an object per
 * token.
 */
export class TurnLog {
  private events: ChatEvent[] | undefined = [];
  private folded: FoldedEvents | undefined;
  private count = 0;
  private waiters: Waiter[] = [];
  private ended = false;

  /** How many events the log holds: the last one's sequence number. */
  get length(): number {
    return this.count;
  }

  /** Whether the turn's last event has been appended. */
  get isEnded(): boolean {
    return this.ended;
  }

  append(event: ChatEvent): void {
    this.events!.push(event);
    this.count++;
    if (isLastEvent(event)) this.end();
    else this.wake();
  }

  /** The event numbered `seq` (1 ≤ seq ≤ length). */
  at(seq: number): ChatEvent {
    if (this.events !== undefined) return this.events[seq - 1]!;
    return this.folded!.at(seq);
  }

  /** Calls `waiter` once, when the log grows or ends. */
  waitForMore(waiter: Waiter): void {
    this.waiters.push(waiter);
  }

  /** Calls `listener` once the log has ended (at once if it has). */
  whenEnded(listener: () => void): void {
    if (this.ended) return listener();
    const check = () => (this.ended ? listener() : this.waitForMore(check));
    this.waitForMore(check);
  }

  /** Ends the log (the engine yields a last event; this also covers a turn that ended without one). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.folded = new FoldedEvents(this.events!);
    this.events = undefined;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** The three events that end a turn. */
export function isLastEvent(event: ChatEvent): boolean {
  return event.type === 'turn-finish' || event.type === 'turn-error' || event.type === 'turn-abort';
}

/** An ended turn's events: those before and after its run of text deltas as they were, the deltas as one string. */
class FoldedEvents {
  private readonly head: ChatEvent[] = [];
  private readonly tail: ChatEvent[] = [];
  private readonly firstDelta: number;
  private readonly text: string;
  /** Where each delta's text ends in `text`. */
  private readonly ends: Uint32Array;

  constructor(events: ChatEvent[]) {
    let index = 0;
    while (index < events.length && events[index]!.type !== 'text-delta') this.head.push(events[index++]!);
    this.firstDelta = index + 1;
    const ends: number[] = [];
    let text = '';
    while (index < events.length) {
      const event = events[index]!;
      if (event.type !== 'text-delta') break;
      text += event.text;
      ends.push(text.length);
      index++;
    }
    for (; index < events.length; index++) this.tail.push(events[index]!);
    this.text = text;
    this.ends = Uint32Array.from(ends);
  }

  at(seq: number): ChatEvent {
    if (seq < this.firstDelta) return this.head[seq - 1]!;
    const delta = seq - this.firstDelta;
    if (delta >= this.ends.length) return this.tail[delta - this.ends.length]!;
    const start = delta === 0 ? 0 : this.ends[delta - 1]!;
    return { type: 'text-delta', text: this.text.slice(start, this.ends[delta]) };
  }
}
