import type { Server } from 'socket.io';
import type { SentFrame } from './recorded-socket.js';

/** The two limits on which the server closes a connection instead of answering an event. */
export interface WireLimits {
  /** engine.io's maxHttpBufferSize, which it gives `ws` as the maxPayload of every frame. */
  maxFrameBytes: number;
  /** socket.io-parser's maxAttachments: binary parts of one packet. */
  maxAttachments: number;
}

/** Read from the running server's own engine and parser, not restated from the docs. */
export function wireLimitsOf(io: Server): WireLimits {
  const maxFrameBytes = io.engine.opts.maxHttpBufferSize;
  // socket.io-parser keeps its options private; a decoder built with none holds the defaults the server's use.
  const decoder = new io._parser.Decoder() as unknown as { opts: { maxAttachments: number } };
  if (maxFrameBytes === undefined) throw new Error('the engine has no maxHttpBufferSize');
  return { maxFrameBytes, maxAttachments: decoder.opts.maxAttachments };
}

/**
 * Why the server must close a connection that sent these frames, or
 * undefined when it must not: `ws` refuses a frame over maxPayload with
 * "RangeError: Max payload size exceeded" (close code 1009), and
 * socket.io-parser a packet with too many attachments ("too many
 * attachments"); either closes the whole connection, and nothing else may.
 */
export function overLimit(frames: readonly SentFrame[], limits: WireLimits): string | undefined {
  const large = frames.find((frame) => frame.bytes > limits.maxFrameBytes);
  if (large !== undefined) return `a ${large.bytes}-byte frame, over maxHttpBufferSize ${limits.maxFrameBytes}`;
  const many = frames.find((frame) => frame.attachments > limits.maxAttachments);
  if (many !== undefined) return `a packet with ${many.attachments} binary attachments, over maxAttachments ${limits.maxAttachments}`;
  return undefined;
}
