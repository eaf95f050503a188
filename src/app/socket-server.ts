import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { corsOrigin } from '../http/cors-origin.js';
import type { ServerDependencies } from '../http/server-dependencies.js';
import type { SocketSurface } from '../realtime/socket-surface.js';

/**
 * Socket.IO on the same HTTP server and port as the REST API.
 * Per-message deflate is off: it costs ~230 KB per idle socket
 * (measured with Socket.IO 4 on Node 20) and chat frames are small.
 *
 * Connection state recovery lets an unchanged client that lost its network
 * for a moment get every event it missed: Socket.IO keeps each emitted
 * packet for the recovery window and the client sends back the last one it
 * saw. Middlewares run again on recovery, so a revoked key stays refused.
 */
export function attachSocketServer(httpServer: HttpServer, dependencies: ServerDependencies, surfaces: SocketSurface[]): Server {
  const recoveryMs = dependencies.config.durability.socketRecoveryMs;
  const io = new Server(httpServer, {
    cors: { origin: corsOrigin(dependencies.config.corsOrigin), credentials: true },
    perMessageDeflate: false,
    maxHttpBufferSize: dependencies.config.bodyLimitBytes,
    ...(recoveryMs === 0 ? {} : { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs, skipMiddlewares: false } }),
  });
  for (const surface of surfaces) surface(io, dependencies);
  return io;
}
