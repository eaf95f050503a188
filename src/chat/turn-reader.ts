import type { ChatEvent } from './chat-events.js';
import type { TurnLog } from './turn-log.js';

const finished: IteratorResult<ChatEvent> = { done: true, value: undefined };
/** What a reader whose client left yields last: transports already close on it. */
const clientLeft: IteratorResult<ChatEvent> = { done: false, value: { type: 'turn-abort', message: undefined } };

/**
 * Reads one turn's log from its first event, live: the same path for the
 * client that started the turn and for one that resumes it. Events up to
 * `after` were delivered before (a resume): a transport reads them to know
 * its state and writes only the later ones (`replaying` says which).
 *
 * A plain iterator rather than an async generator, with one promise per
 * read that has to wait: this sits on the per-token path.
 */
export class TurnReader implements AsyncIterableIterator<ChatEvent> {
  private position = 0;
  private waiting: ((result: IteratorResult<ChatEvent>) => void) | undefined;
  private left = false;
  private done = false;

  constructor(
    private readonly log: TurnLog,
    private readonly turn: { readonly id: string | undefined },
    /** The sequence number of the last event the client already has. */
    readonly after: number,
    /** The wire options the turn was started with (see StartOptions.wire). */
    readonly wire: unknown,
  ) {}

  /** The turn's id (its reply's message id), known once `turn-start` has been read. */
  get turnId(): string | undefined {
    return this.turn.id;
  }

  /** The sequence number of the event read last: its id on the wire. */
  get seq(): number {
    return this.position;
  }

  /** Whether the event read last is one the client already has. */
  get replaying(): boolean {
    return this.position <= this.after;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatEvent>> {
    if (this.waiting !== undefined) throw new Error('TurnReader: next() called while a read is pending');
    const result = this.read();
    if (result !== undefined) return Promise.resolve(result);
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.log.waitForMore(this.onMore);
    });
  }

  return(): Promise<IteratorResult<ChatEvent>> {
    this.done = true;
    return Promise.resolve(finished);
  }

  /** The client behind this reader is gone: it ends, after a `turn-abort` of its own, whatever the turn does. */
  leave(): void {
    if (this.left || this.done) return;
    this.left = true;
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    waiting(this.read()!);
  }

  /** The next result, or undefined when the log has nothing new yet. */
  private read(): IteratorResult<ChatEvent> | undefined {
    if (this.done) return finished;
    if (this.left) {
      this.done = true;
      return clientLeft;
    }
    const log = this.log;
    if (this.position < log.length) return { done: false, value: log.at(++this.position) };
    if (log.isEnded) {
      this.done = true;
      return finished;
    }
    return undefined;
  }

  private readonly onMore = (): void => {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    const result = this.read();
    if (result === undefined) return this.log.waitForMore(this.onMore);
    this.waiting = undefined;
    waiting(result);
  };
}
