import { io, type Socket } from 'socket.io-client';

/** One WebSocket frame the client sent, measured as the server's receiver measures it. */
export interface SentFrame {
  /** The frame's payload in bytes: what `ws` compares with its maxPayload (Socket.IO's maxHttpBufferSize). */
  bytes: number;
  /** On the first frame of a binary Socket.IO packet: how many binary frames (attachments) follow it. */
  attachments: number;
}

export interface ReceivedEvent {
  event: string;
  args: unknown[];
}

/** `5<n>-…` (binary event) and `6<n>-…` (binary ack): the header of a packet with n attachments. */
const binaryPacketHeader = /^[56](\d+)-/;

/**
 * A real socket.io-client connection (WebSocket only, never reconnecting,
 * never sharing its connection with another namespace) that records every
 * frame it puts on the wire and every event it receives. Reconnection and
 * multiplexing are off because both move packets between connections: a
 * reconnecting client replays what was emitted while it was down, and two
 * namespaces of one Manager share one WebSocket, so a frame one sends can
 * close the other's connection.
 */
export class RecordedSocket {
  readonly sent: SentFrame[] = [];
  readonly received: ReceivedEvent[] = [];
  /** socket.io-client's reason, once the connection is gone. */
  disconnectReason: string | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.io.engine.on('packetCreate', (packet: { type: string; data?: unknown }) => this.sent.push(frameOf(packet)));
    socket.onAny((event: string, ...args: unknown[]) => this.record({ event, args: withoutRecoveryOffset(socket, args) }));
    socket.on('disconnect', (reason) => {
      this.disconnectReason = reason;
      this.notify();
    });
  }

  /** Connects and resolves once the namespace accepted the socket; rejects with the connect_error. */
  static open(url: string, namespace: string, auth: Record<string, unknown>, timeoutMs = 5_000): Promise<RecordedSocket> {
    const socket = io(`${url}${namespace}`, { transports: ['websocket'], forceNew: true, reconnection: false, auth });
    const recorded = new RecordedSocket(socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`${namespace} did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(recorded);
      });
      socket.once('connect_error', (error) => {
        clearTimeout(timer);
        socket.close();
        reject(error);
      });
    });
  }

  get connected(): boolean {
    return this.disconnectReason === undefined;
  }

  /** Emits `args`, and an acknowledgement callback when `ack` is set (its answers are recorded as `(ack)` events). */
  emit(event: string, args: unknown[], ack: boolean): void {
    if (ack) this.socket.emit(event, ...args, (...answer: unknown[]) => this.record({ event: '(ack)', args: answer }));
    else this.socket.emit(event, ...args);
  }

  /** The first event from `received[from]` on that matches; rejects when the connection drops first or nothing comes in time. */
  waitFor(from: number, matches: (event: ReceivedEvent) => boolean, timeoutMs: number, what: string): Promise<ReceivedEvent> {
    return this.until(
      () => this.received.slice(from).find(matches),
      timeoutMs,
      () => new Error(`no ${what} within ${timeoutMs} ms`),
    );
  }

  /** Resolves with the disconnect reason; rejects when the connection is still up after `timeoutMs`. */
  disconnected(timeoutMs: number): Promise<string> {
    return this.until(
      () => this.disconnectReason,
      timeoutMs,
      () => new Error(`the connection was still open ${timeoutMs} ms later`),
      false,
    );
  }

  close(): void {
    this.socket.close();
  }

  private until<Value>(found: () => Value | undefined, timeoutMs: number, timeout: () => Error, failOnDisconnect = true): Promise<Value> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = found();
        if (value !== undefined) return finish(() => resolve(value));
        if (failOnDisconnect && !this.connected)
          return finish(() => reject(new Error(`the connection dropped (${this.disconnectReason})`)));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(timeout())), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private record(event: ReceivedEvent): void {
    this.received.push(event);
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** engine.io over WebSocket sends a string packet as its type digit and the text, a binary one as its bytes alone. */
function frameOf(packet: { type: string; data?: unknown }): SentFrame {
  const { data } = packet;
  if (typeof data === 'string') {
    const header = packet.type === 'message' ? binaryPacketHeader.exec(data) : null;
    return { bytes: 1 + Buffer.byteLength(data), attachments: header === null ? 0 : Number(header[1]) };
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return { bytes: data.byteLength, attachments: 0 };
  return { bytes: 1, attachments: 0 };
}

/**
 * With connection state recovery on, Socket.IO appends each event's offset
 * (a string the client sends back on reconnecting) as its last argument;
 * it is the transport's, not the event's.
 */
function withoutRecoveryOffset(socket: Socket, args: unknown[]): unknown[] {
  const recovering = (socket as unknown as { _pid?: string })._pid !== undefined;
  return recovering && typeof args.at(-1) === 'string' ? args.slice(0, -1) : args;
}
