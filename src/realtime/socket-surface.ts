import type { Server } from 'socket.io';
import type { ServerDependencies } from '../http/server-dependencies.js';

/** A client event's entry in its surface's event table. */
export interface ClientEventEntry {
  /** The payload field naming a stored resource the event acts on (a conversation, a session), if any. */
  idField?: string;
}

/**
 * A surface's client events, keyed by its typed event map, so the compiler
 * keeps the table complete: an event a handler listens for is in the map,
 * and every key of the map must be here. Suites that must cover every event
 * (fuzzing, the authorization matrix) are generated from these tables.
 */
export type ClientEventTable<ClientEvents> = Record<keyof ClientEvents & string, ClientEventEntry>;

/** A namespace's handlers, registered by each seed's transport. */
export type SocketSurface = (io: Server, dependencies: ServerDependencies) => void;
