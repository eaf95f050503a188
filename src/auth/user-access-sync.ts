import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { ChatStore, UserAccess } from '../store/chat-store.js';
import type { UserAccessList } from './user-access-list.js';

/** A safety net for a change whose message an instance missed (Redis down while it was published). */
const reloadEveryMs = 60_000;

/**
 * Keeps every instance's UserAccessList current. A change made here is
 * applied at once, then published on `<TURN_REDIS_PREFIX>:user-access`,
 * which every instance subscribes to; each reloads the whole list from the
 * store whenever its subscription (re)connects and once a minute, so a
 * missed message is made up for. Without REDIS_URL there is one instance
 * and nothing to publish.
 */
export class UserAccessSync {
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((access: UserAccess) => void)[] = [];

  private constructor(
    private readonly list: UserAccessList,
    private readonly store: ChatStore,
    private readonly logger: Logger,
    private readonly redis: Redis | undefined,
    private readonly channel: string,
  ) {}

  /** Loads the list from the store and, with Redis, subscribes to the changes of other instances. */
  static async start(options: {
    list: UserAccessList;
    store: ChatStore;
    logger: Logger;
    redis: Redis | undefined;
    prefix: string;
  }): Promise<UserAccessSync> {
    const sync = new UserAccessSync(options.list, options.store, options.logger, options.redis, `${options.prefix}:user-access`);
    await sync.reload();
    if (options.redis !== undefined) await sync.subscribe(options.redis);
    sync.timer = setInterval(() => void sync.reload().catch(() => {}), reloadEveryMs);
    sync.timer.unref();
    return sync;
  }

  /** Told of every change, local or from another instance (to end a disabled user's sockets). */
  onChange(listener: (access: UserAccess) => void): void {
    this.listeners.push(listener);
  }

  /** Applies a change stored by this instance here, then on every other instance. */
  async publish(access: UserAccess): Promise<void> {
    this.applyChange(access);
    if (this.redis === undefined) return;
    await this.redis.publish(this.channel, JSON.stringify(access)).catch((error: Error) => {
      this.logger.warn(
        { error: error.message, userId: access.userId },
        'user access: could not publish a change; other instances reload it within a minute',
      );
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  private async reload(): Promise<void> {
    try {
      const list = await this.store.listUserAccess();
      this.list.load(list);
      for (const access of list) if (access.disabled) this.notify(access);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'user access: could not reload from the store; keeping the list held');
      throw error;
    }
  }

  private async subscribe(redis: Redis): Promise<void> {
    // A subscribed connection can run no other command, and waits for messages indefinitely.
    const subscriber = redis.duplicate({ commandTimeout: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.logger.warn({ error: error.message }, 'user access: redis subscription error'));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        this.applyChange(JSON.parse(message) as UserAccess);
      } catch {
        this.logger.warn({ channel }, 'user access: ignored a malformed message');
      }
    });
    let first = true;
    // ioredis resubscribes by itself on reconnecting; what was published meanwhile is read from the store.
    subscriber.on('ready', () => {
      if (first) return;
      void this.reload().catch(() => {});
    });
    await subscriber.subscribe(this.channel);
    first = false;
  }

  private applyChange(access: UserAccess): void {
    this.list.apply(access);
    this.notify(access);
  }

  private notify(access: UserAccess): void {
    for (const listener of this.listeners) listener(access);
  }
}
