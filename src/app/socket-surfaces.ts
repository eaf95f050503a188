import type { ClientEventEntry, SocketSurface } from '../realtime/socket-surface.js';
import { aiNamespaceClientEvents } from '../transports/ai-namespace/ai-namespace-events.js';
import { streamV2ClientEvents } from '../transports/stream-v2/stream-v2-events.js';
import { voiceClientEvents } from '../transports/voice/voice-events.js';
import { aiNamespace } from '../transports/ai-namespace/ai-namespace.js';
import { streamV2Socket } from '../transports/stream-v2/stream-v2-socket.js';
import { voiceSocket } from '../transports/voice/voice-socket.js';

/** Every Socket.IO surface, registered on the one Socket.IO server. */
export const socketSurfaces: SocketSurface[] = [streamV2Socket, voiceSocket, aiNamespace];

/** One namespace's client events, from the surfaces registered on it. */
export interface NamespaceEvents {
  namespace: string;
  /** Which surface's error shape answers a refused event. */
  surface: 'ai-namespace' | 'stream-v2' | 'voice';
  events: Readonly<Record<string, ClientEventEntry>>;
  /** The handshake `auth` field naming a stored resource the whole connection acts on, if any. */
  handshakeIdField?: string;
}

/** Every client event of every surface above, by namespace (seeds 003 and 004 share the default one). */
export const socketEventTable: readonly NamespaceEvents[] = [
  { namespace: '/', surface: 'stream-v2', events: streamV2ClientEvents },
  { namespace: '/', surface: 'voice', events: voiceClientEvents, handshakeIdField: 'conversationId' },
  { namespace: '/ai', surface: 'ai-namespace', events: aiNamespaceClientEvents },
];
