import type { SocketSurface } from '../realtime/socket-server.js';
import { aiNamespace } from './ai-namespace/ai-namespace.js';
import { streamV2Socket } from './stream-v2/stream-v2-socket.js';
import { voiceSocket } from './voice/voice-socket.js';

/** Every Socket.IO surface, registered on the one Socket.IO server. */
export const socketSurfaces: SocketSurface[] = [streamV2Socket, voiceSocket, aiNamespace];
