import type { AppError } from '../../core/errors.js';
import type { StreamFailure } from './stream-v2-events.js';

/**
 * Encodes seed 003's SSE lines for one session. The `,"sessionId":"…"}`
 * tail is serialized once per request, so a token costs one JSON.stringify
 * of its text and one concatenation.
 */
export class StreamV2Lines {
  private readonly tail: string;

  constructor(private readonly sessionId: string) {
    this.tail = `,"sessionId":${JSON.stringify(sessionId)}}\n\n`;
  }

  /** `data: {"content":"…","sessionId":"…"}` */
  content(text: string): string {
    return `data: {"content":${JSON.stringify(text)}${this.tail}`;
  }

  /** `data: {"done":true,"sessionId":"…"}` */
  done(): string {
    return `data: {"done":true${this.tail}`;
  }

  /** `data: {"done":true,"interrupted":true,"sessionId":"…"}`: the reply stopped part way (a stop, a crash); its partial text is stored. */
  interrupted(): string {
    return `data: {"done":true,"interrupted":true${this.tail}`;
  }

  /** `data: {"error":"…","code":"…","sessionId":"…"}`; the message is an AppError's, safe to show. */
  error(error: AppError): string {
    const failure: StreamFailure = { error: error.message, code: error.code, sessionId: this.sessionId };
    return `data: ${JSON.stringify(failure)}\n\n`;
  }
}
