import type { StoredMessage } from '../store/chat-store.js';
import type { ChatEvent } from './chat-events.js';
import type { TurnLog } from './turn-log.js';

/**
 * Turn logs every instance can read (Redis Streams with REDIS_URL): the
 * instance running a turn mirrors its log there, so that a client can
 * resume the turn, or stop it, through any instance.
 */
export interface SharedTurnLogs {
  /** Starts mirroring a turn's log; the mirror gets every event from `turn-start` on. */
  mirror(turnId: string, userId: string, wire: unknown): TurnMirror;
  /**
   * A copy of another instance's turn of `userId`, holding what was
   * logged so far and growing as the turn goes on; undefined when there is
   * no such turn (another user's looks the same as none).
   */
  follow(turnId: string, userId: string): Promise<RemoteTurn | undefined>;
  /**
   * A client that left under `key` is back on this instance (a socket that
   * recovered here after dropping elsewhere): until `gone`, every instance
   * keeps the turns that client held from being detached.
   */
  holdClient(key: string, gone: AbortSignal): void;
  /** Asks the instance running one of `userId`'s turns to stop it. */
  stop(turnId: string, userId: string): Promise<'stopped' | 'ended' | 'unknown'>;
  /** Hears, from every instance, which turns to stop and which a client follows (to keep them from being detached). */
  listen(handlers: TurnControlHandlers): void;
  /** Ends the log of a turn whose instance died (its reply swept as interrupted), so that its readers get a last event. */
  endAbandoned(reply: StoredMessage): Promise<void>;
  /** Writes what is still buffered, then lets go of the connections. */
  close(): Promise<void>;
}

export interface TurnControlHandlers {
  /** A client asked some instance to stop this turn. */
  stop(turnId: string): void;
  /** A client on some instance is reading this turn: the instance running it keeps it going as if the client were its own. */
  hold(turnId: string): void;
  /** A client that left under this key reads again on some instance: the same for the turns it held. */
  holdClient(key: string): void;
}

export interface TurnMirror {
  append(event: ChatEvent): void;
}

export interface RemoteTurn {
  log: TurnLog;
  wire: unknown;
  /** Stops following (the client left); the log ends here. */
  close(): void;
}
