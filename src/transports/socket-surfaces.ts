import type { SocketSurface } from '../realtime/socket-server.js';

/** Every Socket.IO surface, registered on the one Socket.IO server. */
export const socketSurfaces: SocketSurface[] = [];
