import { io, type Socket } from 'socket.io-client';
import type { AiClientEvents, AiServerEvents } from '../../src/transports/ai-namespace/ai-namespace-events.js';

/** A client of the /ai namespace, typed with the server's own event maps. */
export type AiClient = Socket<AiServerEvents, AiClientEvents>;

export type AiEventName = keyof AiServerEvents;
export type AiPayload<Event extends AiEventName> = Parameters<AiServerEvents[Event]>[0];

/**
 * Opens /ai clients for one test file and closes every one of them, so no
 * test leaves a socket behind.
 */
export class AiClients {
  private readonly open: Socket[] = [];

  /** Connects and resolves once connected; rejects with the connect_error. */
  async connect(url: string, token?: string): Promise<AiClient> {
    const socket = this.socket(url, token);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** The error a connection attempt is refused with. */
  async refusal(url: string, token: string): Promise<Error & { data?: { code?: string } }> {
    const socket = this.socket(url, token);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => reject(new Error('the connection was accepted')));
      socket.once('connect_error', resolve);
    });
  }

  /** Lets a test use the seed's untyped client code as written; closed with the rest. */
  track<Client extends Socket>(socket: Client): Client {
    this.open.push(socket);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.open.splice(0)) socket.close();
  }

  private socket(url: string, token: string | undefined): AiClient {
    const socket: AiClient = io(`${url}/ai`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: false,
      auth: token === undefined ? {} : { token },
    });
    this.open.push(socket);
    return socket;
  }
}

/** The next `event` whose payload matches; rejects after `timeoutMs` so a missing answer fails the test instead of hanging it. */
export function nextEvent<Event extends AiEventName>(
  socket: AiClient,
  event: Event,
  matches: (payload: AiPayload<Event>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<AiPayload<Event>> {
  // The generic event name is beyond socket.io-client's listener types; the payload type is AiPayload<Event>.
  const untyped = socket as unknown as Socket;
  const name: string = event;
  return new Promise((resolve, reject) => {
    const listener = (payload: AiPayload<Event>) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      untyped.off(name, listener as (payload: unknown) => void);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      untyped.off(name, listener as (payload: unknown) => void);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    untyped.on(name, listener as (payload: unknown) => void);
  });
}

/** Every event the socket receives from now on, in order, for asserting sequences. */
export function recordEvents(socket: AiClient): Array<{ event: string; payload: any }> {
  const events: Array<{ event: string; payload: any }> = [];
  socket.onAny((event: string, payload: unknown) => events.push({ event, payload }));
  return events;
}

/** Emits a payload the typed maps would refuse, as a buggy or hostile client might. */
export function emitRaw(socket: AiClient, event: string, ...payload: unknown[]): void {
  (socket as unknown as Socket).emit(event, ...payload);
}
