import type { SocketSurface } from '../realtime/socket-server.js';
import { aiNamespace } from './ai-namespace/ai-namespace.js';
import { streamV2Socket } from './stream-v2/stream-v2-socket.js';

/** Every Socket.IO surface, registered on the one Socket.IO server. */
export const socketSurfaces: SocketSurface[] = [streamV2Socket, aiNamespace];
