import type { Server as HttpServer } from 'node:http';
import type { Redis } from 'ioredis';
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
export async function attachSocketServer(
  httpServer: HttpServer,
  dependencies: ServerDependencies,
  surfaces: SocketSurface[],
  /** With several instances: the adapter's own connection (its reads block for seconds, longer than the limits' command timeout). */
  redis: Redis | undefined,
): Promise<Server> {
  const recoveryMs = dependencies.config.durability.socketRecoveryMs;
  const io = new Server(httpServer, {
    cors: { origin: corsOrigin(dependencies.config.corsOrigin), credentials: true },
    perMessageDeflate: false,
    maxHttpBufferSize: dependencies.config.bodyLimitBytes,
    ...(recoveryMs === 0 ? {} : { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs, skipMiddlewares: false } }),
    ...(redis === undefined || recoveryMs === 0
      ? {}
      : { adapter: await redisStreamsAdapter(redis, dependencies.config.durability.redisPrefix) }),
  });
  for (const surface of surfaces) surface(io, dependencies);
  return io;
}

/**
 * With several instances, a socket that drops on one and comes back on
 * another recovers there: the Redis Streams adapter keeps every packet in a
 * stream all instances read, and a dropped socket's session in Redis (the
 * pub/sub Redis adapter cannot recover sessions).
 */
async function redisStreamsAdapter(redis: Redis, prefix: string) {
  const { createAdapter } = await import('@socket.io/redis-streams-adapter');
  // The adapter reads and subscribes on duplicates of this connection, which do not inherit its
  // listeners; an 'error' emitted on a connection with none (ioredis does so when a reply finds no
  // command waiting, after a stalled network) would be an uncaught exception that ends the process.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    for (const listener of redis.listeners('error')) copy.on('error', listener as (error: Error) => void);
    return copy;
  };
  return createAdapter(redis, {
    streamName: `${prefix}:socket.io`,
    channelPrefix: `${prefix}:socket.io`,
    sessionKeyPrefix: `${prefix}:socket.io:session:`,
  });
}
