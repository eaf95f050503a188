import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AppError, isAbortError } from '../core/errors.js';
import type { ProviderStreamPart } from './chat-provider.js';
import { toUpstreamError, type UpstreamLabel } from './upstream-error.js';

/** Turns one vendor's server-sent events into provider stream parts. */
export interface StreamDecoder {
  onEvent(event: EventSourceMessage): void;
  /** Text gathered since the last call, '' when none. */
  takeText(): string;
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
  if (response.body === null) throw streamEndedEarly(label.displayName);
  return readEventStream(response.body, decoder, label.displayName);
}

/**
 * Reads an upstream SSE body and yields one text-delta per network read
 * (not per event): tokens that arrive together travel on together.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  decoder: StreamDecoder,
  displayName: string,
): AsyncGenerator<ProviderStreamPart> {
  const parser = createParser({ onEvent: (event) => decoder.onEvent(event) });
  const textDecoder = new TextDecoder();
  const reader = body.getReader();
  try {
    while (!decoder.ended) {
      const { done, value } = await readChunk(reader, displayName);
      if (done) break;
      parser.feed(textDecoder.decode(value, { stream: true }));
      const text = decoder.takeText();
      if (text !== '') yield { type: 'text-delta', text };
    }
  } finally {
    // Cancelling closes the upstream connection when the consumer stops early.
    reader.cancel().catch(() => {});
  }
  yield* decoder.finish();
}

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>, displayName: string) {
  try {
    return await reader.read();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new AppError('provider_error', `${displayName} closed the stream before finishing`, { cause: error, retryable: true });
  }
}

export function streamEndedEarly(displayName: string): AppError {
  return new AppError('provider_error', `${displayName} closed the stream before finishing`, { retryable: true });
}
