import type { Logger } from '../core/logger.js';
import type { ChatStore } from './chat-store.js';

const hourMs = 60 * 60 * 1000;
const dayMs = 24 * hourMs;

/**
 * Forgets guests idle for more than `days` (0: never), at start and then
 * hourly. A socket guest's conversations can never be reached again once
 * its connection is gone, so without this they would only pile up. Several
 * instances may run it at once: deleting what is already gone is harmless.
 */
export function startGuestRetention(store: ChatStore, days: number, logger: Logger): { stop(): Promise<void> } {
  if (days === 0) return { stop: async () => {} };
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = store.forgetIdleGuests(new Date(Date.now() - days * dayMs)).then(
      (count) => {
        if (count > 0) logger.info({ conversations: count }, 'forgot idle guests');
      },
      (error: Error) => logger.warn({ error: error.message }, 'could not forget idle guests'),
    );
  };
  const timer = setInterval(run, hourMs).unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      // The store closes next: a deletion in progress ends first.
      await running;
    },
  };
}
