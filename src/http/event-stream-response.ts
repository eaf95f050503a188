import type { FastifyReply } from 'fastify';

/**
 * Takes over the raw response for Server-Sent Events. Headers set earlier on
 * the reply (CORS) are kept; the rest stop proxies (nginx) from buffering
 * and caches from storing the stream.
 */
export function openEventStream(reply: FastifyReply): void {
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  reply.raw.flushHeaders();
}

/**
 * An AbortSignal that fires when the client goes away before the response
 * has been fully written, so the upstream request is cancelled with it.
 */
export function clientDisconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
