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
  /** Asks the instance running one of `userId`'s turns to stop it. */
  stop(turnId: string, userId: string): Promise<'stopped' | 'ended' | 'unknown'>;
  /** Calls `listener` with the id of every turn some instance was asked to stop. */
  onStop(listener: (turnId: string) => void): void;
  /** Ends the log of a turn whose instance died (its reply swept as interrupted), so that its readers get a last event. */
  endAbandoned(reply: StoredMessage): Promise<void>;
  /** Writes what is still buffered, then lets go of the connections. */
  close(): Promise<void>;
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
