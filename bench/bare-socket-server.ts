/**
 * The baseline for bench/sockets.ts: a bare Socket.IO server (per-message
 * deflate off, as Parley's) with nothing else but `start-stream`, which
 * pushes `count` events, one every `intervalMs`, shaped like Parley's
 * `ai_stream_chunk`, then `ai_stream_end`. Paced by a setTimeout chain per
 * stream, as the fake upstream paces Parley's tokens. Prints
 * `BARE_SOCKET_SERVER <url>` when listening.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

interface StartStream {
  requestId: string;
  count: number;
  intervalMs: number;
}

const httpServer = createServer();
const io = new Server(httpServer, { perMessageDeflate: false });

io.on('connection', (socket) => {
  socket.on('start-stream', ({ requestId, count, intervalMs }: StartStream) => {
    let sent = 0;
    const tick = () => {
      if (!socket.connected) return;
      if (sent === count) return void socket.emit('ai_stream_end', { requestId });
      sent++;
      socket.emit('ai_stream_chunk', { requestId, chunk: { text: ' word', isComplete: false } });
      setTimeout(tick, intervalMs);
    };
    tick();
  });
});

httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`BARE_SOCKET_SERVER http://127.0.0.1:${port}`);
});

process.once('SIGTERM', () => {
  io.close();
  process.exit(0);
});
