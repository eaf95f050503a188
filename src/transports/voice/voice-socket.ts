import type { Namespace, Socket } from 'socket.io';
import type { Authenticator } from '../../auth/authenticator.js';
import type { Identity } from '../../core/identity.js';
import { handshakeIdentity } from '../../realtime/handshake-identity.js';
import { rememberSignedIn } from '../../realtime/signed-in-users.js';
import type { SocketSurface } from '../../realtime/socket-surface.js';
import type { ClientToServerEvents, ServerToClientEvents } from './voice-events.js';
import { DecoderSlots } from '../../voice/decoder-slots.js';
import { audioChunk, textMessage } from './voice-requests.js';
import { joinConversations, refuseConversationSwitch, type JoinedConversation } from './voice-conversation.js';
import { VoiceSession, type VoiceClient } from './voice-session.js';

/**
 * Seed 004's voice assistant on the default namespace, beside seed 003's
 * ai:chat (the event names do not meet). The seed has no sign-in: a socket
 * without `auth.token` is a guest; one with a token acts for its user, and a
 * bad token is answered with an `error` event on first use. Each connection
 * has its own conversation, so history lasts as long as the connection,
 * unless a signed-in one joined a conversation of its user at the handshake
 * (`auth.conversationId`, voice-conversation.ts).
 */
type VoiceSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export const voiceSocket: SocketSurface = (io, dependencies) => {
  const { speech } = dependencies;
  const decoderSlots = new DecoderSlots(dependencies.config.voice.maxOpenRecordings, dependencies.config.voice.maxOpenRecordingsPerAddress);
  const namespace = io.of('/') as Namespace<ClientToServerEvents, ServerToClientEvents>;
  const joined = new WeakMap<Socket, JoinedConversation>();
  namespace.use(joinConversations(dependencies.authenticator, dependencies.store, joined));
  namespace.on('connection', (socket) => {
    // Made on the first voice event: seed 003's sockets share this namespace and never need one.
    let session: VoiceSession | undefined;
    const voice = () =>
      (session ??= new VoiceSession(
        {
          turns: dependencies.turns,
          speechToText: speech.speechToText,
          textToSpeech: speech.textToSpeech,
          rateLimiter: dependencies.rateLimiter,
          surface: dependencies.config.surfaces.voice,
          voice: dependencies.config.voice,
          decoderSlots,
          logger: dependencies.logger,
          observer: dependencies.metrics?.voice,
          tracer: dependencies.tracing?.voice,
        },
        voiceClient(socket, dependencies.authenticator, joined.get(socket)),
      ));
    socket.on('start-recording', (options) => {
      try {
        refuseConversationSwitch('start-recording', options);
        voice().startRecording();
      } catch (error) {
        voice().report(error);
      }
    });
    socket.on('audio-stream', (chunk) => {
      try {
        voice().audio(audioChunk(chunk));
      } catch (error) {
        voice().report(error);
      }
    });
    socket.on('stop-recording', () => void session?.stopRecording().catch((error: unknown) => session?.report(error)));
    socket.on('text-message', (payload) => {
      try {
        refuseConversationSwitch('text-message', payload);
        voice().textMessage(textMessage(payload));
      } catch (error) {
        voice().report(error);
      }
    });
    socket.on('interrupt', () => session?.interrupt());
    socket.on('disconnect', () => session?.close());
  });
};

function voiceClient(socket: VoiceSocket, authenticator: Authenticator, joined: JoinedConversation | undefined): VoiceClient {
  let identity: Promise<Identity> | undefined = joined === undefined ? undefined : Promise.resolve(joined.identity);
  return {
    identity: () =>
      (identity ??= handshakeIdentity(authenticator, socket.handshake.auth, socket.id).then((signedIn) => {
        rememberSignedIn(socket, signedIn);
        return signedIn;
      })),
    address: socket.handshake.address,
    target:
      joined === undefined
        ? { kind: 'keyed', clientKey: socket.id, create: { surface: 'voice' } }
        : { kind: 'existing', conversationId: joined.conversationId },
    emit: (event, ...payload) => socket.emit(event, ...payload),
  };
}
