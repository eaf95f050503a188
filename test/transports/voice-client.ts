import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/transports/voice/voice-events.js';

type ServerEvent = keyof ServerToClientEvents;
type Payload<Event extends ServerEvent> = Parameters<ServerToClientEvents[Event]>[0];

export interface LoggedEvent {
  event: ServerEvent;
  payload: any;
}

const serverEvents: ServerEvent[] = ['ai-response', 'ai-typing', 'message-received', 'speech-result', 'error'];

/** A real Socket.IO client of seed 004 that logs every event the server sends, in order. */
export class VoiceTestClient {
  readonly log: LoggedEvent[] = [];
  private constructor(readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>) {
    for (const event of serverEvents) socket.on(event, (payload: any) => this.log.push({ event, payload }));
  }

  static async connect(url: string, auth: Record<string, unknown> = {}): Promise<VoiceTestClient> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { transports: ['websocket'], auth, reconnection: false });
    const client = new VoiceTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return client;
  }

  events<Event extends ServerEvent>(event: Event): Payload<Event>[] {
    return this.log.filter((entry) => entry.event === event).map((entry) => entry.payload as Payload<Event>);
  }

  /** Resolves with the `count`-th event of this name (counting those already logged). */
  waitFor<Event extends ServerEvent>(event: Event, count = 1, timeoutMs = 10_000): Promise<Payload<Event>> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        const seen = this.events(event);
        if (seen.length >= count) return resolve(seen[count - 1]!);
        if (Date.now() - started > timeoutMs) {
          return reject(
            new Error(`no ${count}× ${event} within ${timeoutMs} ms; saw ${JSON.stringify(this.log.map((entry) => entry.event))}`),
          );
        }
        setTimeout(check, 10);
      };
      check();
    });
  }

  /** Streams a recording as MediaRecorder would: start-recording, the pieces, stop-recording (unless `stop` is false). */
  async record(chunks: Buffer[], { stop = true, pauseMs = 0 } = {}): Promise<void> {
    this.socket.emit('start-recording');
    for (const chunk of chunks) {
      this.socket.emit('audio-stream', chunk);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    if (stop) this.socket.emit('stop-recording');
  }

  close(): void {
    this.socket.close();
  }
}
