import type { Turns } from '../../chat/turns.js';
import { socketErrorDetails } from '../../realtime/socket-error-details.js';
import { isAbortError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { reportUnexpected } from '../../realtime/unexpected-error.js';
import type { Identity } from '../../core/identity.js';
import type { TurnClient } from '../../chat/turn-guard.js';
import type { SurfaceSettings } from '../../config/surface-defaults.js';
import type { VoiceSettings } from '../../config/voice-settings.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { ConversationTarget, StoredMessage } from '../../store/chat-store.js';
import type { DecoderSlots } from '../../voice/decoder-slots.js';
import { RecordingDecoder } from '../../voice/recording-decoder.js';
import type { SpeechToText, TextToSpeech } from '../../voice/speech-engines.js';
import { UtteranceDetector } from '../../voice/utterance-detector.js';
import { VoiceExchange, type VoiceInstruments } from '../../voice/voice-exchange.js';
import type { AiResponse, ServerToClientEvents } from './voice-events.js';

export interface VoiceSessionDependencies extends VoiceInstruments {
  turns: Turns;
  speechToText: SpeechToText;
  textToSpeech: TextToSpeech | undefined;
  rateLimiter: RateLimiter;
  surface: SurfaceSettings;
  voice: VoiceSettings;
  decoderSlots: DecoderSlots;
  logger: Logger;
}

/** The socket a session talks to, reduced to what the session needs. */
export interface VoiceClient {
  /** Resolved on first use and kept; rejects with unauthorized for a bad token. */
  identity(): Promise<Identity>;
  address: string | undefined;
  /**
   * The connection's conversation: its own, keyed by the socket (history lasts
   * as long as the connection), or the user's conversation it joined.
   */
  target: ConversationTarget;
  emit<Event extends keyof ServerToClientEvents>(event: Event, ...payload: Parameters<ServerToClientEvents[Event]>): void;
}

interface Recording {
  decoder: RecordingDecoder;
  detector: UtteranceDetector;
  heardSpeech: boolean;
  /** Stops the recording when its audio stops coming, so a silent client does not hold a decoder forever. */
  idle: NodeJS.Timeout;
}

/**
 * One socket's conversation with the voice assistant. Audio is decoded as
 * it arrives and cut into utterances; each utterance is transcribed in
 * order and answered. One reply is current at a time: a new message, or the
 * client's `interrupt` (barge-in), aborts the current reply, which is then
 * stored as interrupted and never sent, so the client gets no stale audio.
 */
export class VoiceSession {
  private recording: Recording | undefined;
  private transcriptions: Promise<void> = Promise.resolve();
  private reply: AbortController | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly dependencies: VoiceSessionDependencies,
    private readonly client: VoiceClient,
  ) {}

  startRecording(): void {
    if (this.recording !== undefined) void this.stopRecording();
    const recording: Recording = {
      // A refused recording stays current, ignoring its later pieces, until the client stops it or starts another.
      decoder: new RecordingDecoder(
        this.dependencies.decoderSlots,
        this.client.address,
        (pcm) => recording.detector.push(pcm),
        (error) => this.report(error),
      ),
      detector: new UtteranceDetector({
        silenceMs: this.dependencies.voice.silenceMs,
        maxUtteranceSeconds: this.dependencies.voice.maxUtteranceSeconds,
        onUtterance: (pcm) => {
          recording.heardSpeech = true;
          this.hear(pcm);
        },
      }),
      heardSpeech: false,
      idle: setTimeout(() => {
        if (this.recording === recording) void this.stopRecording();
      }, this.dependencies.voice.recordingIdleSeconds * 1000),
    };
    this.recording = recording;
  }

  /** A recording starts with its first chunk when the client did not send start-recording. */
  audio(chunk: Buffer): void {
    if (this.recording === undefined) this.startRecording();
    const recording = this.recording!;
    recording.idle.refresh();
    recording.decoder.write(chunk);
  }

  /** Transcribes what was said since the last utterance; a recording with no speech at all gets an empty speech-result. */
  async stopRecording(): Promise<void> {
    const recording = this.recording;
    if (recording === undefined) return;
    this.recording = undefined;
    clearTimeout(recording.idle);
    await recording.decoder.finish();
    if (recording.decoder.hasFailed) return;
    const rest = recording.detector.flush();
    if (rest !== undefined) this.hear(rest);
    else if (!recording.heardSpeech && !this.closing.signal.aborted) this.client.emit('speech-result', { text: '', isFinal: true });
  }

  textMessage(text: string): void {
    const exchange = new VoiceExchange(this.dependencies, 'text');
    this.client.identity().then(
      (identity) => this.respond(text, 'text', identity, { bucket: 'default', address: this.client.address }, exchange),
      (error: unknown) => {
        exchange.end('refused', error);
        this.report(error);
      },
    );
  }

  /** Barge-in: the user spoke over the reply. The reply in progress is dropped. */
  interrupt(): void {
    if (this.reply === undefined) return;
    this.reply.abort();
    this.reply = undefined;
    this.client.emit('ai-typing', { isTyping: false });
  }

  close(): void {
    this.closing.abort();
    this.reply?.abort();
    if (this.recording !== undefined) {
      clearTimeout(this.recording.idle);
      this.recording.decoder.destroy();
      this.recording = undefined;
    }
  }

  private hear(pcm: Buffer): void {
    // The exchange starts here, at the end of speech: time waiting behind earlier utterances is part of it.
    const exchange = new VoiceExchange(this.dependencies, 'voice', pcm.length);
    // In order, one at a time: the user's words become messages in the order they were said.
    this.transcriptions = this.transcriptions.then(() => this.transcribe(pcm, exchange));
  }

  private async transcribe(pcm: Buffer, exchange: VoiceExchange): Promise<void> {
    if (this.closing.signal.aborted) return exchange.end('interrupted');
    let admitted = false;
    try {
      const identity = await this.client.identity();
      // Counted here, before the recogniser is paid; the turn it leads to is not counted again.
      await this.dependencies.rateLimiter.consume('default', identity, this.client.address);
      admitted = true;
      const text = await exchange.transcribe(this.dependencies.speechToText, pcm, this.closing.signal);
      if (this.closing.signal.aborted) return exchange.end('interrupted');
      this.client.emit('speech-result', { text, isFinal: true });
      if (text === '') exchange.end('empty');
      else void this.respond(text, 'voice', identity, { bucket: 'none' }, exchange);
    } catch (error) {
      exchange.end(this.closing.signal.aborted ? 'interrupted' : admitted ? 'failed' : 'refused', error);
      this.report(error);
    }
  }

  private async respond(
    text: string,
    source: 'voice' | 'text',
    identity: Identity,
    turnClient: TurnClient,
    exchange: VoiceExchange,
  ): Promise<void> {
    this.reply?.abort();
    const reply = new AbortController();
    this.reply = reply;
    this.client.emit('ai-typing', { isTyping: true });
    let answered = false;
    let failure: unknown;
    try {
      const turn = await this.runTurn(text, source, identity, turnClient, reply.signal, exchange.turnParent);
      failure = turn.failure;
      if (turn.reply === undefined || reply.signal.aborted) return;
      const response = await this.speak(turn.reply, reply.signal, exchange);
      if (!reply.signal.aborted) {
        this.client.emit('ai-response', response);
        answered = true;
      }
    } catch (error) {
      failure = error;
      this.report(error);
    } finally {
      exchange.end(answered ? 'answered' : reply.signal.aborted ? 'interrupted' : 'failed', failure);
      if (this.reply === reply) {
        this.reply = undefined;
        this.client.emit('ai-typing', { isTyping: false });
      }
    }
  }

  /** The stored reply, or none when the turn failed (an error event was sent, `failure` says why) or was aborted. */
  private async runTurn(
    text: string,
    source: 'voice' | 'text',
    identity: Identity,
    turnClient: TurnClient,
    signal: AbortSignal,
    traceParent: unknown,
  ): Promise<{ reply: StoredMessage | undefined; failure: unknown }> {
    const { surface } = this.dependencies;
    // A voice reply is worth its audio, on this connection: the turn ends with the socket.
    const events = this.dependencies.turns.start(
      {
        identity,
        target: this.client.target,
        content: text,
        options: surface,
        signal,
        client: turnClient,
      },
      { detachable: false, client: { gone: this.closing.signal, endsWithClient: true, traceParent } },
    );
    let reply: StoredMessage | undefined;
    let failure: unknown;
    for await (const event of events) {
      if (event.type === 'turn-start') {
        this.client.emit('message-received', { text, source, messageId: event.userMessage.id, timestamp: new Date().toISOString() });
      } else if (event.type === 'turn-finish') {
        reply = event.message;
      } else if (event.type === 'turn-error') {
        failure = event.error;
        this.report(event.error);
      }
    }
    return { reply, failure };
  }

  /** The reply with its speech; a failure to speak it still sends the text, with an error event saying why. */
  private async speak(message: StoredMessage, signal: AbortSignal, exchange: VoiceExchange): Promise<AiResponse> {
    const response: AiResponse = {
      text: message.content,
      audio: null,
      mimeType: null,
      messageId: message.id,
      timestamp: new Date().toISOString(),
    };
    const { textToSpeech } = this.dependencies;
    if (textToSpeech === undefined || message.content.trim() === '') return response;
    try {
      const speech = await exchange.synthesize(textToSpeech, message.content, signal);
      response.audio = speech.audio.toString('base64');
      response.mimeType = speech.mimeType;
    } catch (error) {
      if (!signal.aborted) this.report(error);
    }
    return response;
  }

  /** Sends a failure as an `error` event with its code; aborts are not failures, and nothing is sent once the socket is gone. */
  report(error: unknown): void {
    if (this.closing.signal.aborted || isAbortError(error)) return;
    const appError = reportUnexpected(this.dependencies.logger, error, 'voice');
    this.client.emit('error', { message: appError.message, ...socketErrorDetails(appError) });
  }
}
