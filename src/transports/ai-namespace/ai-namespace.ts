import { socketTurnClient } from '../../realtime/socket-turn-client.js';
import type { SocketSurface } from '../../realtime/socket-surface.js';
import type { AiNamespace } from './ai-namespace-events.js';
import { registerAssistantEvents } from './assistant-events.js';
import { registerChatEvents } from './chat-events-handler.js';
import { identifySockets } from './socket-identity.js';
import { registerTurnResume } from './turn-resume-events.js';

/**
 * The Socket.IO `/ai` namespace: seed 000's assistant and seed 001's AI
 * module share it (docs/protocols/ai-namespace.md). Each socket's identity
 * is settled once, at the handshake. A disconnect leaves its turns running
 * for TURN_DETACH_SECONDS: a client back within SOCKET_RECOVERY_SECONDS gets
 * what it missed by itself, a later one asks with turn:resume.
 */
export const aiNamespace: SocketSurface = (io, dependencies) => {
  // The server is untyped (it hosts several surfaces); this namespace's events are typed here.
  const namespace = io.of('/ai') as AiNamespace;
  namespace.use(identifySockets(dependencies.authenticator));
  namespace.on('connection', (socket) => {
    const client = socketTurnClient(socket, dependencies.turns);
    registerAssistantEvents(socket, dependencies, client);
    registerChatEvents(socket, dependencies, client);
    registerTurnResume(socket, dependencies, client);
  });
};
