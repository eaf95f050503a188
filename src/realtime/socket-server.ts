import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ServerDependencies } from '../http/server-dependencies.js';
import { corsOrigin } from '../http/cors-origin.js';

/** A client event's entry in its surface's event table. */
export interface ClientEventEntry {
  /** The payload field naming a stored resource the event acts on (a conversation, a session), if any. */
  idField?: string;
}

/**
 * A surface's client events, keyed by its typed event map, so the compiler
 * keeps the table complete: an event a handler listens for is in the map,
 * and every key of the map must be here. Suites that must cover every event
 * (fuzzing, the authorization matrix) are generated from these tables.
 */
export type ClientEventTable<ClientEvents> = Record<keyof ClientEvents & string, ClientEventEntry>;

/** A namespace's handlers, registered by each seed's transport. */
export type SocketSurface = (io: Server, dependencies: ServerDependencies) => void;

/**
 * Socket.IO on the same HTTP server and port as the REST API.
 * Per-message deflate is off: it costs ~230 KB per idle socket
 * (measured with Socket.IO 4 on Node 20) and chat frames are small.
 */
export function attachSocketServer(httpServer: HttpServer, dependencies: ServerDependencies, surfaces: SocketSurface[]): Server {
  const io = new Server(httpServer, {
    cors: { origin: corsOrigin(dependencies.config.corsOrigin), credentials: true },
    perMessageDeflate: false,
    maxHttpBufferSize: dependencies.config.bodyLimitBytes,
  });
  for (const surface of surfaces) surface(io, dependencies);
  return io;
}
