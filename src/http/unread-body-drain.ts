import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** How much of a refused body is read and thrown away before answering, at most. */
const drainLimits = { bytes: 32 * 1024 * 1024, ms: 5_000 };

/**
 * Calls `then` once the rest of a refused request body has been read and
 * discarded, or once `drainLimits` are reached. Answering a 413 while the
 * client is still sending and then closing the connection (what Fastify
 * does) makes Node's fetch (undici, inside the official OpenAI client) fail
 * with EPIPE before it reads the answer; curl copes, most clients do not.
 */
export function afterUnreadBodyDrained(request: IncomingMessage, then: () => void): void {
  if (request.complete || request.destroyed) return then();
  let seen = 0;
  const finish = () => {
    clearTimeout(timer);
    request.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
    then();
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > drainLimits.bytes) finish();
  };
  const timer = setTimeout(finish, drainLimits.ms).unref();
  request.on('data', onData).once('end', finish).once('error', finish).once('close', finish);
  request.resume();
}

/**
 * A body sent with a request whose route reads none (a GET with a body) is
 * read and thrown away before the handler answers: answering a large
 * response while the client is still uploading, then closing, resets its
 * connection before it reads the answer. Requests without a body pay one
 * property check.
 */
export function drainUnreadBodies(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.raw.complete || request.body !== undefined) return done();
    afterUnreadBodyDrained(request.raw, () => done());
  });
}
