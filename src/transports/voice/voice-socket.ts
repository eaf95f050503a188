import type { Namespace } from 'socket.io';
import { handshakeIdentity } from '../../realtime/handshake-identity.js';
import type { SocketSurface } from '../../realtime/socket-server.js';
import type { ClientToServerEvents, ServerToClientEvents } from './voice-events.js';
import { audioChunk, textMessage } from './voice-requests.js';
import { VoiceSession, type VoiceClient } from './voice-session.js';

/**
 * Seed 004's voice assistant on the default namespace, beside seed 003's
 * ai:chat (the event names do not meet). The seed has no sign-in: a socket
 * without `auth.token` is a guest; one with a token acts for its user, and a
 * bad token is answered with an `error` event on first use. Each connection
 * has its own conversation, so history lasts as long as the connection.
 */
export const voiceSocket: SocketSurface = (io, dependencies) => {
  const { speech } = dependencies;
  const namespace = io.of('/') as Namespace<ClientToServerEvents, ServerToClientEvents>;
  namespace.on('connection', (socket) => {
    let identity: ReturnType<VoiceClient['identity']> | undefined;
    const client: VoiceClient = {
      identity: () => (identity ??= handshakeIdentity(dependencies.authenticator, socket.handshake.auth, socket.id)),
      address: socket.handshake.address,
      conversationKey: socket.id,
      emit: (event, ...payload) => socket.emit(event, ...payload),
    };
    const session = new VoiceSession(
      {
        engine: dependencies.engine,
        speechToText: speech.speechToText,
        textToSpeech: speech.textToSpeech,
        rateLimiter: dependencies.rateLimiter,
        surface: dependencies.config.surfaces.voice,
        voice: dependencies.config.voice,
        logger: dependencies.logger,
      },
      client,
    );
    const failed = (error: unknown) => session.report(error);
    socket.on('start-recording', () => session.startRecording());
    socket.on('audio-stream', (chunk) => {
      try {
        session.audio(audioChunk(chunk));
      } catch (error) {
        failed(error);
      }
    });
    socket.on('stop-recording', () => void session.stopRecording().catch(failed));
    socket.on('text-message', (payload) => {
      try {
        session.textMessage(textMessage(payload));
      } catch (error) {
        failed(error);
      }
    });
    socket.on('interrupt', () => session.interrupt());
    socket.on('disconnect', () => session.close());
  });
};
