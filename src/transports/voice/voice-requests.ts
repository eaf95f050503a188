import { z } from 'zod';
import { invalidRequest } from '../../core/errors.js';

const text = z.string().trim().min(1, 'must not be empty');

/** `text-message`: the seed sends its text as it is; `{ text }` and `{ message }` are accepted too. */
const textMessageSchema = z.union([text, z.object({ text }), z.object({ message: text })]);

export function textMessage(payload: unknown): string {
  const parsed = textMessageSchema.safeParse(payload);
  if (!parsed.success) throw invalidRequest('text-message: expected a non-empty string, or { text } with one', 'text');
  const value = parsed.data;
  return typeof value === 'string' ? value : 'text' in value ? value.text : value.message;
}

/** `audio-stream`: binary only (an ArrayBuffer or typed array on the client arrives as a Buffer). */
export function audioChunk(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  throw invalidRequest('audio-stream: expected binary audio (an ArrayBuffer of the recording)', 'audio');
}
