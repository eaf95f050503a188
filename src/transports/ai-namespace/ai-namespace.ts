import { InFlightTurns } from '../../realtime/in-flight-turns.js';
import type { SocketSurface } from '../../realtime/socket-surface.js';
import type { AiNamespace } from './ai-namespace-events.js';
import { registerAssistantEvents } from './assistant-events.js';
import { registerChatEvents } from './chat-events-handler.js';
import { identifySockets } from './socket-identity.js';

/**
 * The Socket.IO `/ai` namespace: seed 000's assistant and seed 001's AI
 * module share it (docs/protocols/ai-namespace.md). Each socket's identity
 * is settled once, at the handshake; its turns live in one InFlightTurns,
 * so a disconnect aborts all of them and the engine stores their partial
 * replies as interrupted.
 */
export const aiNamespace: SocketSurface = (io, dependencies) => {
  // The server is untyped (it hosts several surfaces); this namespace's events are typed here.
  const namespace = io.of('/ai') as AiNamespace;
  namespace.use(identifySockets(dependencies.authenticator));
  namespace.on('connection', (socket) => {
    const turns = new InFlightTurns();
    registerAssistantEvents(socket, dependencies, turns);
    registerChatEvents(socket, dependencies, turns);
    socket.on('disconnect', () => {
      turns.abortAll();
    });
  });
};
