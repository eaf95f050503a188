import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Behaviour } from './fake-upstream.js';
import { tokenize } from './fake-text.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** What a provider streams: the events around the tokens and how to frame one token. */
export interface TokenStream {
  /** Events written right after the headers, before the first-token delay. */
  head: string[];
  tokens: string[];
  /** The complete SSE event for one token; called once per token, so keep it cheap. */
  tokenEvent(token: string): string;
  /** Events written after the last token, before the response ends. */
  tail: string[];
}

/**
 * Turns an event renderer into a cheap per-token one: the event is rendered
 * once around a placeholder, so each token then costs a single
 * JSON.stringify of the token itself (this fake also drives benchmarks).
 */
export function tokenTemplate(render: (token: string) => string): (token: string) => string {
  const placeholder = '\u0000';
  const [prefix, suffix] = render(placeholder).split(JSON.stringify(placeholder)) as [string, string];
  return (token) => prefix + JSON.stringify(token) + suffix;
}

/** The reply a request gets, cut to the request's token limit. */
export interface PlannedReply {
  tokens: string[];
  /** true when the limit cut the reply short */
  truncated: boolean;
}

/**
 * One request/response pair. Owns the single pending timer of the response so
 * that a client going away stops the fake at once: nothing is written after
 * the response closes.
 */
export class Exchange {
  body: any = undefined;
  /** Set when the fake cut the connection itself, so it is not mistaken for a client abort. */
  dropped = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** Snapshot taken when the request arrived, so a test changing behaviour mid-stream cannot skew it. */
    readonly behaviour: Behaviour,
  ) {
    res.once('close', () => {
      this.#closed = true;
      clearTimeout(this.#timer);
    });
  }

  /** Runs `fn` after `ms` unless the response closes first; `ms <= 0` runs it now (the benchmark fast path). */
  after(ms: number, fn: () => void): void {
    if (this.#closed) return;
    if (ms <= 0) return fn();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) fn();
    }, ms);
  }

  /** Sends a complete response: JSON, or a raw string as text (e.g. a proxy's HTML error page). */
  send(status: number, body: unknown, headers: Record<string, string> = {}): void {
    const raw = typeof body === 'string';
    this.res.writeHead(status, { 'content-type': raw ? 'text/plain' : 'application/json', ...headers });
    this.res.end(raw ? body : JSON.stringify(body));
  }

  /** The behaviour's reply for this request, cut to `limit` tokens when a limit is given. */
  planReply(limit: number | undefined): PlannedReply {
    const { reply } = this.behaviour;
    const tokens = tokenize(typeof reply === 'function' ? reply(this.body) : reply);
    if (limit === undefined || tokens.length <= limit) return { tokens, truncated: false };
    return { tokens: tokens.slice(0, limit), truncated: true };
  }

  /** Streams `stream` as SSE, one res.write per event, with the behaviour's delays and drop point. */
  stream(stream: TokenStream): void {
    const { firstTokenDelayMs, dropAfterTokens } = this.behaviour;
    this.res.writeHead(200, SSE_HEADERS);
    stream.head.forEach((event, i) => this.#write(event, dropAfterTokens === 0 && i === stream.head.length - 1));
    if (dropAfterTokens === 0) return;
    this.after(firstTokenDelayMs, () => this.#writeTokens(stream, 0));
  }

  #writeTokens(stream: TokenStream, from: number): void {
    const { tokenDelayMs, dropAfterTokens, breakAfterTokens } = this.behaviour;
    const { tokens } = stream;
    for (let i = from; i < tokens.length; i++) {
      const dropNow = i + 1 === dropAfterTokens;
      this.#write(stream.tokenEvent(tokens[i]!), dropNow);
      if (dropNow) return;
      if (i + 1 === breakAfterTokens?.tokens) {
        this.res.end(breakAfterTokens.raw);
        return;
      }
      if (tokenDelayMs > 0 && i + 1 < tokens.length) return this.after(tokenDelayMs, () => this.#writeTokens(stream, i + 1));
    }
    for (const event of stream.tail) this.res.write(event);
    this.res.end();
  }

  /**
   * Writes one event; with `thenDrop`, destroys the socket once that event is
   * flushed, so the client really receives the tokens before the connection dies.
   */
  #write(event: string, thenDrop: boolean): void {
    if (!thenDrop) {
      this.res.write(event);
      return;
    }
    this.res.write(event, () => {
      if (this.#closed) return;
      this.dropped = true;
      this.res.socket?.destroy();
    });
  }
}
