import type { ChatEngine, TurnRequest } from './chat-engine.js';
import type { ChatEvent } from './chat-events.js';
import { AppError, toAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SharedTurnLogs, TurnMirror } from './shared-turn-logs.js';
import { TurnLog } from './turn-log.js';
import { TurnReader } from './turn-reader.js';

export interface TurnSettings {
  /** How long a detachable turn whose clients all left keeps going; 0 aborts it at once. */
  detachMs: number;
  /** How long an ended turn stays readable. */
  retentionMs: number;
  /** At most this many ended turns are kept, oldest dropped first, whatever their age. */
  maxRetained: number;
}

/** Who reads a turn and what their leaving means. */
export interface TurnClient {
  /** Fires when the client is gone (a closed response, a disconnected socket). */
  gone: AbortSignal;
  /**
   * true (HTTP): the reader ends with the client, yielding a `turn-abort`.
   * false (Socket.IO): it keeps emitting to the socket, whose connection
   * state recovery replays what a client that comes back missed.
   */
  endsWithClient: boolean;
  /** A key the client keeps when it comes back (a recovered socket's id), for rejoin(). */
  key?: string;
  /** The trace the turn's span goes under (the HTTP request's), when tracing is on. */
  traceParent?: unknown;
}

/** A turn to start; `signal`, when given, is an explicit stop. */
export type StartRequest = Omit<TurnRequest, 'signal'> & { signal?: AbortSignal };

export interface StartOptions {
  /** Conversation surfaces keep a turn going when its client leaves; the stateless OpenAI API does not, unless asked. */
  detachable: boolean;
  client: TurnClient;
  /** What a transport needs to encode the turn again for a client that resumes it (the request's wire options). */
  wire?: unknown;
}

/** A turn in this process: its log, its own abort, and the clients holding it. */
interface RunningTurn {
  id: string | undefined;
  userId: string;
  log: TurnLog;
  stop: AbortController;
  detachable: boolean;
  holders: number;
  detachTimer: NodeJS.Timeout | undefined;
  /** Keys of clients that left and may come back with the same key. */
  leftKeys: Set<string> | undefined;
  endedAt: number;
  wire: unknown;
  /** Its log's copy for other instances, from turn-start on (with REDIS_URL). */
  mirror: TurnMirror | undefined;
  /** Removes the listeners this turn put on its clients' signals (a socket's lives longer than its turns). */
  forgetClients: (() => void)[];
}

/**
 * The turns this process runs, owned by the server rather than by the
 * connection that asked: each writes its events to a TurnLog that
 * transports read. A client leaving stops reading; the turn itself ends
 * when it ends, when it is stopped, or when nobody came back within the
 * detach time (then stored as interrupted, billed for what was produced).
 */
export class Turns {
  private readonly running = new Map<string, RunningTurn>();
  /** Ended turns still readable, oldest first (a Map keeps insertion order). */
  private readonly ended = new Map<string, RunningTurn>();

  constructor(
    private readonly engine: ChatEngine,
    private readonly settings: TurnSettings,
    /** With several instances: where turns are mirrored, so that any instance can resume or stop them. */
    private readonly shared?: { logs: SharedTurnLogs; logger: Logger },
  ) {
    shared?.logs.listen({
      stop: (turnId) => this.running.get(turnId)?.stop.abort(),
      hold: (turnId) => {
        const turn = this.running.get(turnId);
        if (turn !== undefined) this.renewDetach(turn);
      },
      holdClient: (key) => {
        for (const turn of this.running.values()) if (turn.leftKeys?.has(key) === true) this.renewDetach(turn);
      },
    });
  }

  /**
   * Starts a turn and returns the first reader, held by `options.client`.
   * `request.signal` is an explicit stop (chat:stop, interrupt): it aborts
   * the turn whoever reads it.
   */
  start(request: StartRequest, options: StartOptions): TurnReader {
    const turn: RunningTurn = {
      id: undefined,
      userId: request.identity.userId,
      log: new TurnLog(),
      stop: new AbortController(),
      detachable: options.detachable,
      holders: 0,
      detachTimer: undefined,
      leftKeys: undefined,
      endedAt: 0,
      wire: options.wire,
      mirror: undefined,
      forgetClients: [],
    };
    const stopSignal = request.signal;
    const stopTurn = () => turn.stop.abort(stopSignal!.reason);
    if (stopSignal?.aborted === true) stopTurn();
    else stopSignal?.addEventListener('abort', stopTurn, { once: true });
    const reader = this.attach(turn, 0, options.client);
    void this.pump(turn, this.engine.runTurn({ ...request, signal: turn.stop.signal, traceParent: options.client.traceParent })).finally(
      () => stopSignal?.removeEventListener('abort', stopTurn),
    );
    return reader;
  }

  /**
   * A reader of one of `userId`'s turns, running or ended within the
   * retention, for a client that resumes it after `after`; undefined when
   * there is no such turn (another user's looks the same as none). A turn
   * another instance runs is read from the shared log.
   */
  async follow(turnId: string, userId: string, after: number, client: TurnClient): Promise<TurnReader | undefined> {
    const turn = this.find(turnId, userId);
    if (turn !== undefined) return this.attach(turn, Math.min(after, turn.log.length), client);
    if (this.shared === undefined) return undefined;
    const remote = await this.sharedCall(() => this.shared!.logs.follow(turnId, userId));
    if (remote === undefined) return undefined;
    const reader = new TurnReader(remote.log, { id: turnId }, Math.min(after, remote.log.length), remote.wire);
    const leave = () => {
      reader.leave();
      remote.close();
    };
    if (client.gone.aborted) leave();
    else client.gone.addEventListener('abort', leave, { once: true });
    // A socket outlives the turns it reads: its listener goes when the turn ends.
    remote.log.whenEnded(() => client.gone.removeEventListener('abort', leave));
    return reader;
  }

  /**
   * Stops one of `userId`'s turns, here or on the instance running it:
   * 'stopped' when it was running, 'ended' when it had already ended (still
   * kept), 'unknown' when there is no such turn of theirs.
   */
  async stop(turnId: string, userId: string): Promise<'stopped' | 'ended' | 'unknown'> {
    const turn = this.find(turnId, userId);
    if (turn !== undefined) {
      if (turn.log.isEnded) return 'ended';
      turn.stop.abort();
      return 'stopped';
    }
    if (this.shared === undefined) return 'unknown';
    return this.sharedCall(() => this.shared!.logs.stop(turnId, userId));
  }

  /** Writes what the shared log still buffers. */
  async close(): Promise<void> {
    await this.shared?.logs.close();
  }

  private async sharedCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.shared!.logger.warn({ error: (error as Error).message }, 'turn log: redis did not answer');
      throw new AppError('service_unavailable', 'Turns running on other instances cannot be reached right now', { retryable: true });
    }
  }

  /**
   * A client that left under `key` is back (a recovered socket): it holds
   * again the turns it held, here and, with a shared log, on the instance
   * running them (a socket that dropped there and recovered here).
   */
  rejoin(key: string, gone: AbortSignal): void {
    for (const turn of this.running.values()) {
      if (turn.leftKeys?.delete(key) === true) this.hold(turn, { gone, endsWithClient: false, key });
    }
    this.shared?.logs.holdClient(key, gone);
  }

  private find(turnId: string, userId: string): RunningTurn | undefined {
    const turn = this.running.get(turnId) ?? this.ended.get(turnId);
    return turn?.userId === userId ? turn : undefined;
  }

  private attach(turn: RunningTurn, after: number, client: TurnClient): TurnReader {
    const reader = new TurnReader(turn.log, turn, after, turn.wire);
    if (!turn.log.isEnded) this.hold(turn, client);
    if (client.endsWithClient) {
      const leave = () => reader.leave();
      if (client.gone.aborted) leave();
      else this.listen(turn, client.gone, leave);
    }
    return reader;
  }

  private hold(turn: RunningTurn, client: TurnClient): void {
    turn.holders++;
    if (turn.detachTimer !== undefined) {
      clearTimeout(turn.detachTimer);
      turn.detachTimer = undefined;
    }
    const release = () => {
      turn.holders--;
      if (client.key !== undefined) (turn.leftKeys ??= new Set()).add(client.key);
      if (turn.holders === 0 && !turn.log.isEnded) this.detach(turn);
    };
    if (client.gone.aborted) release();
    else this.listen(turn, client.gone, release);
  }

  private listen(turn: RunningTurn, signal: AbortSignal, listener: () => void): void {
    signal.addEventListener('abort', listener, { once: true });
    turn.forgetClients.push(() => signal.removeEventListener('abort', listener));
  }

  /** A client on another instance reads a detached turn: its detach time starts again. */
  private renewDetach(turn: RunningTurn): void {
    if (turn.detachTimer !== undefined) this.detach(turn);
  }

  /** Nobody holds the turn any more (here): it goes on for the detach time from now, or stops now. */
  private detach(turn: RunningTurn): void {
    const { detachMs } = this.settings;
    if (!turn.detachable || detachMs === 0) return turn.stop.abort();
    clearTimeout(turn.detachTimer);
    turn.detachTimer = setTimeout(() => turn.stop.abort(), detachMs);
  }

  private async pump(turn: RunningTurn, events: AsyncIterable<ChatEvent>): Promise<void> {
    const log = turn.log;
    try {
      for await (const event of events) {
        if (event.type === 'turn-start') {
          turn.id = event.replyId;
          this.running.set(event.replyId, turn);
          turn.mirror = this.shared?.logs.mirror(event.replyId, turn.userId, turn.wire);
        }
        log.append(event);
        turn.mirror?.append(event);
      }
    } catch (error) {
      // The engine reports failures as events; this only keeps a bug from leaving readers waiting.
      if (!log.isEnded) {
        const failed: ChatEvent = { type: 'turn-error', error: toAppError(error), message: undefined };
        log.append(failed);
        turn.mirror?.append(failed);
      }
    } finally {
      log.end();
      if (turn.detachTimer !== undefined) clearTimeout(turn.detachTimer);
      for (const forget of turn.forgetClients.splice(0)) forget();
      if (turn.id !== undefined) this.retain(turn, turn.id);
    }
  }

  private retain(turn: RunningTurn, id: string): void {
    this.running.delete(id);
    const now = Date.now();
    turn.endedAt = now;
    turn.leftKeys = undefined;
    this.ended.set(id, turn);
    const { retentionMs, maxRetained } = this.settings;
    for (const [oldId, old] of this.ended) {
      if (this.ended.size <= maxRetained && now - old.endedAt < retentionMs) break;
      this.ended.delete(oldId);
    }
  }
}
