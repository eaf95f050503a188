import type { Logger } from '../core/logger.js';
import type { ChatStore, StoredMessage } from './chat-store.js';

/** Missed heartbeats after which an instance counts as dead. */
const missedBeats = 3;

/**
 * Keeps this instance's heartbeat and ends the replies that dead instances
 * (a crash, a SIGKILL, a lost machine) left `in_progress`: they become
 * interrupted, with the text last checkpointed, billed for it. Runs once
 * before Parley serves and then every heartbeat, on every instance; two
 * instances sweeping the same reply end it once (see ChatStore.finishTurn).
 */
export async function startAbandonedReplySweep(
  store: ChatStore,
  heartbeatMs: number,
  logger: Logger,
  /** Told of each reply ended, so that clients following its turn hear it ended. */
  onEnded: (reply: StoredMessage) => Promise<void>,
): Promise<{ stop(): Promise<void> }> {
  const beat = async () => {
    await store.recordHeartbeat();
    const ended = await store.finishAbandonedReplies(new Date(Date.now() - missedBeats * heartbeatMs));
    if (ended.length === 0) return;
    logger.warn({ replies: ended.length }, 'ended replies abandoned by a stopped instance as interrupted');
    for (const reply of ended) {
      await onEnded(reply).catch((error: Error) =>
        logger.warn({ error: error.message }, 'could not end the turn log of an abandoned reply'),
      );
    }
  };
  await beat();
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(beat).catch((error: Error) => logger.warn({ error: error.message }, 'could not sweep abandoned replies'));
  }, heartbeatMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      // Its turns have ended by now: nothing of this instance is left in progress.
      await store.retireInstance().catch((error: Error) => logger.warn({ error: error.message }, 'could not retire this instance'));
    },
  };
}
