import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TurnReader } from '../chat/turn-reader.js';
import { isLastEvent } from '../chat/turn-log.js';
import type { ChatEvent } from '../chat/chat-events.js';
import type { AppError } from '../core/errors.js';
import type { StoredMessage } from '../store/chat-store.js';
import { clientDisconnectSignal, openEventStream } from './event-stream-response.js';
import { requestTraceContext } from './request-trace.js';

/** One surface's Server-Sent Events wire format. */
export interface TurnStreamEncoder {
  /**
   * The event that opens the stream. Before it a failure is answered with
   * a status code and a JSON error (refuse); after it, as the stream's last event.
   */
  readonly opensAt: 'turn-start' | 'message-start';
  /**
   * The wire text for one event ('' for none). Called for every event, those
   * a resuming client already has included, so the encoder keeps its state.
   */
  encode(event: ChatEvent): string;
  /** The last event of a reply stopped part way (a stop, its instance dying), stored as `message`. */
  interrupted(message: StoredMessage): string;
  refuse(reply: FastifyReply, error: AppError): void;
}

/** The header that names the turn of a stream, for resuming it. */
export const turnIdHeader = 'x-parley-turn-id';

export interface TurnStreamOptions {
  /** A resumed turn: the stream opens at once, whatever the turn did before. */
  resumed: boolean;
  /** Prefix events with `id: <seq>`: what EventSource sends back as Last-Event-ID. */
  eventIds: boolean;
}

/**
 * Writes a turn as Server-Sent Events, the one rule every SSE surface
 * shares: the status code waits for `opensAt`, a later failure is an error
 * event, the response ends with the turn's last event, and a client that
 * left ends it silently. Each written event carries the log's sequence
 * number, so a client that comes back (Last-Event-ID, ?after=) gets exactly
 * the events it missed.
 */
export async function respondWithTurn(
  reply: FastifyReply,
  reader: TurnReader,
  encoder: TurnStreamEncoder,
  options: TurnStreamOptions,
): Promise<void> {
  const raw = reply.raw;
  let opened = false;
  if (options.resumed) opened = open(reply, reader);
  for await (const event of reader) {
    if (!opened) {
      if (event.type === 'turn-error') return encoder.refuse(reply, event.error);
      if (event.type === 'turn-abort') return endAbandoned(reply);
      if (event.type === encoder.opensAt) opened = open(reply, reader);
    }
    // A turn-abort without a stored message is this reader's own client leaving: nobody to tell.
    const text =
      event.type === 'turn-abort' ? (event.message === undefined ? '' : encoder.interrupted(event.message)) : encoder.encode(event);
    const written = text === '' || reader.replaying ? '' : options.eventIds ? `id: ${reader.seq}\n${text}` : text;
    if (isLastEvent(event)) {
      if (!raw.writableEnded) raw.end(written);
      return;
    }
    if (written !== '') raw.write(written);
  }
  // The reader ended without a last event: the turn's log is gone from this instance.
  if (!raw.writableEnded) raw.end();
}

function open(reply: FastifyReply, reader: TurnReader): true {
  const turnId = reader.turnId;
  if (turnId !== undefined) void reply.header(turnIdHeader, turnId);
  openEventStream(reply);
  return true;
}

/** The client has gone before the stream opened: close the response without an answer. */
export function endAbandoned(reply: FastifyReply): void {
  if (reply.raw.writableEnded) return;
  if (!reply.raw.headersSent) reply.hijack();
  reply.raw.end();
}

/** The client of an HTTP request, to a turn: gone when the response closes early; its reader ends with it. */
export function httpTurnClient(reply: FastifyReply) {
  return { gone: clientDisconnectSignal(reply), endsWithClient: true, traceParent: requestTraceContext(reply.request) };
}

/**
 * Where a resuming client left off: EventSource's Last-Event-ID header, or
 * `?after=` for clients that keep the number themselves; 0 for the start.
 */
export function resumePoint(request: FastifyRequest, after: number | undefined): number {
  if (after !== undefined) return after;
  const header = request.headers['last-event-id'];
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}
