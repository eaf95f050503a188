import type { AiResponse, VoiceFailure } from '../api/voice-events';
import { connectVoice, type VoiceSocket } from './voice-connection';
import { VoicePlayer } from './voice-player';
import { openMicrophone, startRecorder, type VoiceRecorder } from './voice-recorder';

/** What voice mode is doing, as the button shows it. */
export type VoiceState = 'idle' | 'starting' | 'listening' | 'thinking' | 'speaking';

export interface VoiceSessionEvents {
  state(state: Exclude<VoiceState, 'idle' | 'starting'>): void;
  /** What the server heard and is answering, until the conversation shows it; undefined once it does. */
  heard(text: string | undefined): void;
  /** A turn of this session was stored: read the conversation again. */
  stored(): Promise<void>;
  /** Something went wrong that the person should know about; `ended` says whether voice mode stopped. */
  failed(message: string, ended: boolean): void;
  /** The session is over (stopped, or failed with `ended`). */
  ended(): void;
}

/**
 * One stretch of voice mode in one conversation: the microphone recorded
 * continuously (the server cuts it into utterances at each pause), each
 * utterance answered in the conversation and its reply spoken. Speaking
 * over a reply stops it (barge-in). Stopping closes the connection, which
 * makes the server drop a reply still being written (stored as interrupted).
 */
export class VoiceSession {
  private typing = false;
  /** From `ai-response` until its audio has been heard (or there is none). */
  private replying = false;
  private speaking = false;
  private closed = false;
  private readonly player = new VoicePlayer();

  private constructor(
    readonly conversationId: string,
    private readonly socket: VoiceSocket,
    private readonly recorder: VoiceRecorder,
    private readonly events: VoiceSessionEvents,
  ) {}

  /** Opens the microphone first (so a refused one opens no connection), then joins the conversation and starts recording. */
  static async start(conversationId: string, token: string | null, events: VoiceSessionEvents): Promise<VoiceSession> {
    const microphone = await openMicrophone();
    let socket: VoiceSocket;
    try {
      socket = await connectVoice(conversationId, token);
    } catch (failure) {
      for (const track of microphone.getTracks()) track.stop();
      throw failure;
    }
    socket.emit('start-recording');
    const recorder = startRecorder(microphone, (piece) => socket.emit('audio-stream', piece));
    const session = new VoiceSession(conversationId, socket, recorder, events);
    session.listen();
    events.state('listening');
    return session;
  }

  /** Ends voice mode: the microphone, the reply being spoken and the connection. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.player.stop();
    const turnOpen = this.typing;
    void this.recorder.stop().finally(() => {
      this.socket.close();
      // A reply being written when the connection closed is stored as interrupted: show what the store kept.
      if (turnOpen) void this.events.stored().catch(() => undefined);
    });
    this.events.heard(undefined);
    this.events.ended();
  }

  private listen(): void {
    const { socket, events } = this;
    socket.on('speech-result', ({ text }) => {
      if (text === '' || this.closed) return;
      // Barge-in: the person spoke over the reply. The server has moved on to the new message already, so no `interrupt`.
      this.player.stop();
      events.heard(text);
    });
    socket.on('ai-typing', ({ isTyping }) => {
      this.typing = isTyping;
      if (!isTyping && !this.replying) events.heard(undefined);
      this.showState();
    });
    socket.on('ai-response', (response) => void this.answered(response));
    socket.on('error', (failure) => this.refused(failure));
    socket.on('disconnect', () => {
      if (this.closed) return;
      events.failed('The voice connection was lost.', true);
      this.stop();
    });
  }

  private async answered(response: AiResponse): Promise<void> {
    if (this.closed) return;
    this.replying = true;
    try {
      await this.events.stored().catch(() => undefined);
      this.events.heard(undefined);
      if (response.audio === null || response.mimeType === null || this.closed) return;
      this.speaking = true;
      this.showState();
      await this.player.play(response.audio, response.mimeType);
    } catch (failure) {
      if (!this.closed) this.events.failed(failure instanceof Error ? failure.message : 'The spoken reply could not be played.', false);
    } finally {
      this.replying = false;
      this.speaking = false;
      this.showState();
    }
  }

  /** A server `error`: the conversation gone or the recording unreadable end voice mode; anything else (a rate limit…) is shown and listening goes on. */
  private refused(failure: VoiceFailure): void {
    if (this.closed) return;
    const fatal = failure.field === 'conversationId' || failure.field === 'audio';
    this.events.failed(failure.message, fatal);
    // The user message may have been stored before the reply failed.
    void this.events.stored().catch(() => undefined);
    if (fatal) this.stop();
  }

  private showState(): void {
    if (this.closed) return;
    this.events.state(this.speaking ? 'speaking' : this.typing || this.replying ? 'thinking' : 'listening');
  }
}
