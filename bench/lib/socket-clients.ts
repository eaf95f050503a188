/**
 * A load-generator process for bench/sockets.ts, started with
 * child_process.fork: it holds thousands of socket.io-client connections
 * and runs streams on some of them, so the generator's own event loop is
 * split over a few processes and does not starve. Driven over IPC by
 * SocketClientsCommand messages; answers with SocketClientsReply.
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { signToken } from '../../test/support/tokens.js';

export type SocketClientsCommand =
  | {
      type: 'connect';
      url: string;
      count: number;
      concurrency: number;
      /** When set, each socket signs in as a user of its own (`auth.token`, HS256 with this secret). */
      jwtSecret?: string;
    }
  | {
      type: 'stream';
      /** `parley`: seed 000's ai_request; `bare`: bare-socket-server.ts's start-stream. */
      mode: 'parley' | 'bare';
      streams: number;
      /** Tokens per stream the server will send (bare: how many to push). */
      tokens: number;
      intervalMs: number;
      /** Stream i starts at offsetMs + i * staggerMs, so requests do not all land in one tick. */
      offsetMs: number;
      staggerMs: number;
      timeoutMs: number;
    }
  | { type: 'close' };

export type SocketClientsReply =
  | { type: 'connected'; connected: number; failed: number; firstError?: string }
  | {
      type: 'streamed';
      /** Gaps between consecutive chunks of one stream, ms. */
      gaps: number[];
      /** The gaps from the middle 80% of each stream's chunks: without the bursts of turns starting and ending. */
      midStreamGaps: number[];
      chunks: number;
      completed: number;
      failed: number;
      firstError?: string;
    }
  | { type: 'closed' };

const sockets: Socket[] = [];
let requestCounter = 0;

function reply(message: SocketClientsReply): void {
  process.send!(message);
}

async function connect(url: string, count: number, concurrency: number, jwtSecret: string | undefined): Promise<void> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const connectOne = async (index: number) => {
    const auth =
      jwtSecret === undefined ? {} : { token: await signToken(`bench-${process.pid}-${index}`, { secret: jwtSecret, expiresIn: '1d' }) };
    await new Promise<void>((resolve) => {
      const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 30_000, auth });
      socket.once('connect', () => {
        sockets.push(socket);
        resolve();
      });
      socket.once('connect_error', (error) => {
        failed++;
        firstError ??= error.message;
        socket.close();
        resolve();
      });
    });
  };
  // A bounded number of handshakes in flight: thousands at once overflow the listen backlog.
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await connectOne(next++);
    }),
  );
  reply({ type: 'connected', connected: sockets.length, failed, ...(firstError && { firstError }) });
}

interface StreamChunk {
  requestId: string;
  chunk?: { text: string; isComplete: boolean };
}

async function stream(command: Extract<SocketClientsCommand, { type: 'stream' }>): Promise<void> {
  const gaps: number[] = [];
  const midStreamGaps: number[] = [];
  const middle = [command.tokens * 0.1, command.tokens * 0.9];
  let chunks = 0;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const chosen = sockets.slice(0, command.streams);
  await Promise.all(
    chosen.map(
      (socket, index) =>
        new Promise<void>((resolve) => {
          const requestId = `bench-${process.pid}-${++requestCounter}`;
          let last = -1;
          let received = 0;
          const finish = (error?: string) => {
            clearTimeout(timer);
            socket.off('ai_stream_chunk', onChunk);
            socket.off('ai_stream_end', onEnd);
            socket.off('ai_error', onError);
            if (error === undefined) completed++;
            else {
              failed++;
              firstError ??= error;
            }
            resolve();
          };
          // Cheap per token: a clock read and a subtraction.
          const onChunk = (event: StreamChunk) => {
            if (event.requestId !== requestId || event.chunk?.isComplete) return;
            const now = performance.now();
            if (last >= 0) {
              gaps.push(now - last);
              if (received >= middle[0]! && received < middle[1]!) midStreamGaps.push(now - last);
            }
            last = now;
            received++;
            chunks++;
          };
          const onEnd = (event: StreamChunk) => {
            if (event.requestId === requestId) finish();
          };
          const onError = (event: StreamChunk & { error?: string }) => {
            if (event.requestId === requestId) finish(event.error ?? 'ai_error');
          };
          const timer = setTimeout(() => finish('timed out'), command.timeoutMs);
          socket.on('ai_stream_chunk', onChunk);
          socket.on('ai_stream_end', onEnd);
          socket.on('ai_error', onError);
          setTimeout(
            () => {
              if (command.mode === 'parley') {
                socket.emit('ai_request', { requestId, prompt: 'Tell me about the weather.', stream: true });
              } else {
                socket.emit('start-stream', { requestId, count: command.tokens, intervalMs: command.intervalMs });
              }
            },
            command.offsetMs + index * command.staggerMs,
          );
        }),
    ),
  );
  reply({ type: 'streamed', gaps, midStreamGaps, chunks, completed, failed, ...(firstError && { firstError }) });
}

process.on('message', (command: SocketClientsCommand) => {
  switch (command.type) {
    case 'connect':
      void connect(command.url, command.count, command.concurrency, command.jwtSecret);
      break;
    case 'stream':
      void stream(command);
      break;
    case 'close':
      for (const socket of sockets) socket.close();
      sockets.length = 0;
      // Exit rather than wait for every socket's close handshake.
      process.send!({ type: 'closed' } satisfies SocketClientsReply, () => process.exit(0));
      break;
  }
});

// Orphaned (the bench died): go rather than hold thousands of sockets open.
process.on('disconnect', () => process.exit(0));
