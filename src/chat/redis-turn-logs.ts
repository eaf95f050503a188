import type { ChainableCommander, Redis } from 'ioredis';
import { AppError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StoredMessage } from '../store/chat-store.js';
import type { ChatEvent } from './chat-events.js';
import type { RemoteTurn, SharedTurnLogs, TurnControlHandlers, TurnMirror } from './shared-turn-logs.js';
import { isLastEvent, TurnLog } from './turn-log.js';

export interface RedisTurnLogSettings {
  /** Keys and the stop channel start with this. */
  prefix: string;
  /** How long an ended turn's stream is kept. */
  retentionMs: number;
  /** How long a running turn's stream lives at most (longer than any turn runs): a dead instance's streams expire by themselves. */
  runningTtlMs: number;
  /** How often a follower says it still reads a turn; well within TURN_DETACH_SECONDS. */
  holdIntervalMs: number;
}

/** How long a follower's XREAD waits before checking that the stream still exists. */
const blockMs = 5_000;

/**
 * Turn logs in Redis Streams, one stream per turn (`<prefix>:turn:<id>`).
 * Each entry holds the events one event-loop tick added, as a JSON array:
 * all turns' entries of a tick go in one pipeline, so a turn costs Redis a
 * command per tick, not per token. The first entry also holds the turn's
 * owner and wire options. The stream is never trimmed while the turn runs
 * (a turn is bounded by its reply's size and the provider's timeout); it
 * expires TURN_LOG_RETENTION_SECONDS after the turn ends.
 *
 * Stops go through pub/sub (`<prefix>:turn-stop`): every instance hears
 * them and the one running the turn aborts it. So do holds
 * (`<prefix>:turn-hold`), which a follower publishes while it reads a
 * turn, so that the instance running it does not take the turn for
 * abandoned once its own client left.
 */
export class RedisTurnLogs implements SharedTurnLogs {
  private pending = new Map<RedisMirror, ChatEvent[]>();
  private flushing: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private readonly followers = new Set<Redis>();
  private subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly settings: RedisTurnLogSettings,
    private readonly logger: Logger,
  ) {}

  mirror(turnId: string, userId: string, wire: unknown): TurnMirror {
    return new RedisMirror(this, this.key(turnId), userId, wire);
  }

  /** Called by a mirror for each event: buffered until the end of the tick. */
  buffer(mirror: RedisMirror, event: ChatEvent): void {
    const events = this.pending.get(mirror);
    if (events === undefined) this.pending.set(mirror, [event]);
    else events.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.pipeline();
    for (const [mirror, events] of batch) mirror.write(pipeline, events, this.settings);
    const written = pipeline.exec().then(
      (results) => {
        const failed = results?.find(([error]) => error !== null);
        if (failed !== undefined)
          this.logger.warn({ error: (failed[0] as Error).message }, 'turn log: redis refused a write; resuming elsewhere may miss events');
      },
      (error: Error) => this.logger.warn({ error: error.message }, 'turn log: redis write failed; resuming elsewhere may miss events'),
    );
    this.flushing = this.flushing.then(() => written);
  };

  async follow(turnId: string, userId: string): Promise<RemoteTurn | undefined> {
    const key = this.key(turnId);
    const entries = await this.redis.xrange(key, '-', '+');
    if (entries.length === 0 || field(entries[0]!, 'u') !== userId) return undefined;
    const log = new TurnLog();
    const wireText = field(entries[0]!, 'w');
    for (const entry of entries) appendEntry(log, entry);
    let connection: Redis | undefined;
    let closed = false;
    const close = () => {
      closed = true;
      if (!log.isEnded) log.end();
      if (connection !== undefined) {
        this.followers.delete(connection);
        connection.disconnect();
      }
    };
    if (!log.isEnded) {
      // XREAD BLOCK holds its connection: each follower gets its own (followers are rare, a client that moved instance).
      connection = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: blockMs + 2_000, maxRetriesPerRequest: 1 });
      connection.on('error', () => {});
      this.followers.add(connection);
      const holding = this.hold(turnId);
      void this.tail(connection, key, entries.at(-1)![0], log, () => closed).finally(() => {
        clearInterval(holding);
        close();
      });
    }
    return { log, wire: wireText === undefined || wireText === '' ? undefined : JSON.parse(wireText), close };
  }

  /** Says now, and every holdIntervalMs until cleared, that a client reads the turn `id` (or, on hold-client, that the client `id` is back). */
  private hold(id: string, channel: 'hold' | 'hold-client' = 'hold'): NodeJS.Timeout {
    const publish = () => {
      this.redis.publish(this.channel(channel), id).catch(() => {
        // A hold missed is one the next interval makes up for; the turn's detach time covers several.
      });
    };
    publish();
    return setInterval(publish, this.settings.holdIntervalMs).unref();
  }

  holdClient(key: string, gone: AbortSignal): void {
    if (gone.aborted) return;
    const holding = this.hold(key, 'hold-client');
    // No turn outlives the provider's total timeout: a socket that stays longer holds nothing by then.
    const expiry = setTimeout(() => clearInterval(holding), this.settings.runningTtlMs).unref();
    gone.addEventListener(
      'abort',
      () => {
        clearInterval(holding);
        clearTimeout(expiry);
      },
      { once: true },
    );
  }

  private async tail(connection: Redis, key: string, lastId: string, log: TurnLog, isClosed: () => boolean): Promise<void> {
    try {
      while (!log.isEnded && !isClosed()) {
        const result = (await connection.xread('BLOCK', blockMs, 'STREAMS', key, lastId)) as [string, [string, string[]][]][] | null;
        if (result === null) {
          // Expired with its turn unfinished: the instance died and its reply outlived the retention.
          if ((await connection.exists(key)) === 0) log.append({ type: 'turn-abort', message: undefined });
          continue;
        }
        for (const entry of result[0]![1]) {
          appendEntry(log, entry);
          lastId = entry[0];
        }
      }
    } catch (error) {
      if (isClosed() || log.isEnded) return;
      this.logger.warn({ error: (error as Error).message }, 'turn log: lost redis while following a turn');
      const lost = new AppError('service_unavailable', 'Lost track of the reply; resume it again', { retryable: true });
      log.append({ type: 'turn-error', error: lost, message: undefined });
    }
  }

  async stop(turnId: string, userId: string): Promise<'stopped' | 'ended' | 'unknown'> {
    const key = this.key(turnId);
    const [first] = await this.redis.xrange(key, '-', '+', 'COUNT', 1);
    if (first === undefined || field(first, 'u') !== userId) return 'unknown';
    const [last] = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
    if (decodeEvents(field(last!, 'e')).some(isLastEvent)) return 'ended';
    await this.redis.publish(this.channel('stop'), turnId);
    return 'stopped';
  }

  listen(handlers: TurnControlHandlers): void {
    const stops = this.channel('stop');
    const holds = this.channel('hold');
    const clientHolds = this.channel('hold-client');
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
    subscriber.on('error', (error: Error) => this.logger.warn({ error: error.message }, 'turn log: control channel connection error'));
    subscriber.on('message', (channel: string, id: string) => {
      if (channel === stops) handlers.stop(id);
      else if (channel === holds) handlers.hold(id);
      else if (channel === clientHolds) handlers.holdClient(id);
    });
    subscriber
      .subscribe(stops, holds, clientHolds)
      .catch((error: Error) => this.logger.warn({ error: error.message }, 'turn log: could not subscribe to stops and holds'));
    this.subscriber = subscriber;
  }

  async endAbandoned(reply: StoredMessage): Promise<void> {
    const key = this.key(reply.id);
    const [last] = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
    if (last === undefined || decodeEvents(field(last, 'e')).some(isLastEvent)) return;
    const abort: ChatEvent = { type: 'turn-abort', message: reply };
    await this.redis
      .multi()
      .xadd(key, '*', 'e', encodeEvents([abort]))
      .pexpire(key, this.settings.retentionMs)
      .exec();
  }

  async close(): Promise<void> {
    if (this.flushScheduled) this.flush();
    await this.flushing;
    for (const follower of this.followers) follower.disconnect();
    this.subscriber?.disconnect();
  }

  private key(turnId: string): string {
    return `${this.settings.prefix}:turn:${turnId}`;
  }

  private channel(kind: 'stop' | 'hold' | 'hold-client'): string {
    return `${this.settings.prefix}:turn-${kind}`;
  }
}

/** One turn's side of the stream: it knows whether its first entry (owner, wire) is written yet. */
class RedisMirror implements TurnMirror {
  private started = false;

  constructor(
    private readonly logs: RedisTurnLogs,
    private readonly key: string,
    private readonly userId: string,
    private readonly wire: unknown,
  ) {}

  append(event: ChatEvent): void {
    this.logs.buffer(this, event);
  }

  write(pipeline: ChainableCommander, events: ChatEvent[], settings: RedisTurnLogSettings): void {
    const encoded = encodeEvents(events);
    if (!this.started) {
      this.started = true;
      const wire = this.wire === undefined ? '' : JSON.stringify(this.wire);
      pipeline.xadd(this.key, '*', 'u', this.userId, 'w', wire, 'e', encoded).pexpire(this.key, settings.runningTtlMs);
    } else {
      pipeline.xadd(this.key, '*', 'e', encoded);
    }
    if (isLastEvent(events.at(-1)!)) pipeline.pexpire(this.key, settings.retentionMs);
  }
}

function field(entry: [string, string[]], name: string): string | undefined {
  const fields = entry[1];
  for (let index = 0; index < fields.length; index += 2) if (fields[index] === name) return fields[index + 1];
  return undefined;
}

function appendEntry(log: TurnLog, entry: [string, string[]]): void {
  for (const event of decodeEvents(field(entry, 'e'))) if (!log.isEnded) log.append(event);
}

/** An AppError's message is not an enumerable property: turn-error events carry their error as plain fields. */
interface EncodedError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
  field?: string;
}

function encodeEvents(events: ChatEvent[]): string {
  return JSON.stringify(events, (key, value: unknown) => {
    if (key !== 'error' || !(value instanceof AppError)) return value;
    const encoded: EncodedError = { code: value.code, message: value.message, retryable: value.retryable };
    if (value.retryAfterSeconds !== undefined) encoded.retryAfterSeconds = value.retryAfterSeconds;
    if (value.field !== undefined) encoded.field = value.field;
    return encoded;
  });
}

function decodeEvents(text: string | undefined): ChatEvent[] {
  if (text === undefined) return [];
  const events = JSON.parse(text) as ChatEvent[];
  for (const event of events) {
    if (event.type !== 'turn-error') continue;
    const { code, message, ...options } = event.error as unknown as EncodedError;
    (event as { error: AppError }).error = new AppError(code, message, options);
  }
  return events;
}
