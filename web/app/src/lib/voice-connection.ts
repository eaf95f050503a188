import type { Socket } from 'socket.io-client';
import type { VoiceClientEvents, VoiceServerEvents } from '../api/voice-events';

export type VoiceSocket = Socket<VoiceServerEvents, VoiceClientEvents>;

/** How long the handshake may take before voice mode gives up. */
const connectTimeoutMs = 10_000;

/**
 * A Socket.IO connection on the default namespace that joins one of the
 * signed-in person's conversations (docs/protocols/voice.md, "Joining a
 * conversation"). socket.io-client is imported here, on first use, so it
 * stays out of the first load's script. Rejects with the server's reason
 * when the handshake is refused (connect_error: bad token, unknown
 * conversation). No automatic reconnection: the server's recording does not
 * survive a lost connection, so voice mode ends and says so instead.
 */
export async function connectVoice(conversationId: string, token: string | null): Promise<VoiceSocket> {
  const { io } = await import('socket.io-client');
  const socket: VoiceSocket = io({
    transports: ['websocket'],
    reconnection: false,
    timeout: connectTimeoutMs,
    auth: token ? { token, conversationId } : { conversationId },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('connect_error');
      resolve(socket);
    });
    socket.once('connect_error', (failure: Error) => {
      socket.off('connect');
      socket.close();
      reject(new Error(`Voice mode could not connect: ${failure.message}`));
    });
  });
}
