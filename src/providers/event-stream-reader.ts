import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { AppError, isAbortError } from '../core/errors.js';
import type { ProviderStreamPart } from './chat-provider.js';
import { nodeBodyOf } from './node-http-fetch.js';
import { toUpstreamError, type UpstreamLabel } from './upstream-error.js';

/** Turns one vendor's server-sent events into provider stream parts. */
export interface StreamDecoder {
  onEvent(event: EventSourceMessage): void;
  /** Text gathered since the last call, '' when none. */
  takeText(): string;
  /** Other parts (tool calls) gathered since the last call, in order with the text before them; empty when none. */
  takeParts(): ProviderStreamPart[];
  /** True once the upstream said the stream is over. */
  readonly ended: boolean;
  /** The closing parts (usage, finish); throws when the upstream stopped without finishing. */
  finish(): ProviderStreamPart[];
}

/**
 * Sends a streaming request through an official client (`.asResponse()`
 * skips the client's own stream parser) and returns its decoded stream.
 * Rejects with an AppError when the upstream refuses the request.
 */
export async function openUpstreamStream(
  send: () => Promise<Response>,
  decoder: StreamDecoder,
  label: UpstreamLabel,
): Promise<AsyncIterable<ProviderStreamPart>> {
  let response: Response;
  try {
    response = await send();
  } catch (error) {
    throw toUpstreamError(error, label);
  }
  // Responses from node-http-fetch.ts carry their Node stream; any other fetch's body is converted.
  const body = nodeBodyOf(response) ?? (response.body === null ? undefined : Readable.fromWeb(response.body as never));
  if (body === undefined) throw streamEndedEarly(label.displayName);
  return { [Symbol.asyncIterator]: () => new EventStreamParts(body, decoder, label.displayName) };
}

const failed = Symbol('failed');

/** How long a finished upstream response may take to end before its connection is cut. */
const drainTimeoutMs = 1_000;

/**
 * The parts of an upstream SSE body, one text-delta per network read (not
 * per event): tokens that arrive together travel on together, and text that
 * arrives while the consumer is busy joins the pending delta. Fed by the
 * body's 'data' events rather than pulled through an async iterator: on the
 * per-token path that is one promise per read instead of three.
 */
class EventStreamParts implements AsyncIterator<ProviderStreamPart> {
  private readonly parser: EventSourceParser;
  /** Parts other than text, and the text that came before them, in order: they go before pendingText. */
  private readonly pendingParts: ProviderStreamPart[] = [];
  private pendingText = '';
  /** The closing parts (usage, finish), once the upstream has finished. */
  private closing: ProviderStreamPart[] | undefined;
  private failure: unknown;
  private released = false;
  private waiting: { resolve: (result: IteratorResult<ProviderStreamPart>) => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly body: Readable,
    private readonly decoder: StreamDecoder,
    private readonly displayName: string,
  ) {
    this.parser = createParser({ onEvent: (event) => decoder.onEvent(event) });
    // UTF-8 decoding in the stream itself keeps characters split across reads whole.
    body.setEncoding('utf8');
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    body.once('close', this.onEnd);
  }

  next(): Promise<IteratorResult<ProviderStreamPart>> {
    const ready = this.take();
    if (ready === undefined) return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
    return ready === failed ? Promise.reject(this.failure) : Promise.resolve(ready);
  }

  /** The consumer stopped early: the upstream connection is closed. */
  async return(): Promise<IteratorResult<ProviderStreamPart>> {
    this.release();
    this.closing = [];
    return { done: true, value: undefined };
  }

  private readonly onData = (chunk: string): void => {
    try {
      this.parser.feed(chunk);
    } catch (error) {
      // A decoder throws on an event it cannot read (`data: {not json`): the upstream's fault, not ours.
      // The text of the events before it in the same read is kept, as the reply's last part.
      this.pendingText += this.decoder.takeText();
      this.fail(
        error instanceof AppError
          ? error
          : new AppError('provider_error', `${this.displayName} sent an event that could not be read`, { cause: error, retryable: true }),
      );
      return;
    }
    const parts = this.decoder.takeParts();
    if (parts.length > 0) this.queueParts(parts);
    const text = this.decoder.takeText();
    if (text !== '') this.pendingText += text;
    if (this.decoder.ended) this.close();
    else if (text !== '' || parts.length > 0) this.wake();
  };

  private readonly onEnd = (): void => {
    if (this.closing === undefined && this.failure === undefined) this.close();
  };

  private readonly onError = (error: unknown): void => {
    this.fail(
      isAbortError(error)
        ? error
        : new AppError('provider_error', `${this.displayName} closed the stream before finishing`, { cause: error, retryable: true }),
    );
  };

  private queueParts(parts: ProviderStreamPart[]): void {
    if (this.pendingText !== '') {
      this.pendingParts.push({ type: 'text-delta', text: this.pendingText });
      this.pendingText = '';
    }
    this.pendingParts.push(...parts);
  }

  private close(): void {
    this.release(true);
    try {
      this.closing = this.decoder.finish();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.wake();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.closing !== undefined) return;
    this.failure = error;
    this.release();
    this.wake();
  }

  /** What the next part is, `failed`, or undefined while there is nothing yet. */
  private take(): IteratorResult<ProviderStreamPart> | typeof failed | undefined {
    if (this.pendingParts.length > 0) return { done: false, value: this.pendingParts.shift()! };
    if (this.pendingText !== '') {
      const text = this.pendingText;
      this.pendingText = '';
      return { done: false, value: { type: 'text-delta', text } };
    }
    if (this.failure !== undefined) return failed;
    if (this.closing === undefined) return undefined;
    const part = this.closing.shift();
    return part === undefined ? { done: true, value: undefined } : { done: false, value: part };
  }

  /** Settles a waiting next() with whatever is ready. */
  private wake(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    const ready = this.take();
    if (ready === undefined) return;
    this.waiting = undefined;
    if (ready === failed) waiting.reject(this.failure);
    else waiting.resolve(ready);
  }

  /**
   * Done with the body. A stopped or failed stream cuts the connection at
   * once (that is what tells the upstream to stop generating). A finished
   * one drains what is left so its keep-alive connection is reused: the
   * upstream's last event often arrives a read before the end of the HTTP
   * response, and cutting there would cost a new connection per request.
   */
  private release(finished = false): void {
    if (this.released) return;
    this.released = true;
    const body = this.body;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('close', this.onEnd);
    // An error after this point (the cut itself) has nobody left to tell.
    body.off('error', this.onError);
    body.on('error', () => {});
    if ((body as IncomingMessage).complete) body.resume();
    else if (!finished) body.destroy();
    else {
      const cut = setTimeout(() => body.destroy(), drainTimeoutMs).unref();
      body.once('end', () => clearTimeout(cut)).resume();
    }
  }
}

export function streamEndedEarly(displayName: string): AppError {
  return new AppError('provider_error', `${displayName} closed the stream before finishing`, { retryable: true });
}

/**
 * What a decoder has read and not yet handed on: text, and the tool-call
 * parts between it. Consecutive argument fragments of one call that arrive
 * in one read travel on as one part, as text does.
 */
export class DecodedOutput {
  private text = '';
  private parts: ProviderStreamPart[] = [];

  addText(text: string): void {
    this.text += text;
  }

  addPart(part: Extract<ProviderStreamPart, { type: 'tool-call' | 'tool-arguments' | 'logprobs' }>): void {
    const last = this.parts.at(-1);
    if (this.text === '' && part.type === 'tool-arguments' && last?.type === 'tool-arguments' && last.index === part.index) {
      last.arguments += part.arguments;
      return;
    }
    if (this.text !== '') {
      this.parts.push({ type: 'text-delta', text: this.text });
      this.text = '';
    }
    this.parts.push(part);
  }

  takeText(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  takeParts(): ProviderStreamPart[] {
    if (this.parts.length === 0) return noParts;
    const parts = this.parts;
    this.parts = [];
    return parts;
  }
}

const noParts: ProviderStreamPart[] = [];
