import type { ChatStore, FinishTurnInput } from '../store/chat-store.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * Reply endings the store could not take because it was unavailable (a
 * database restarting, a network cut), written again every `retryMs` until
 * it takes them, so a reply whose client was told of the outage is still
 * stored complete, interrupted or failed once the database is back, not
 * left `in_progress` for as long as this instance lives. Ending a reply
 * twice ends it once (finishTurn matches only a reply still in progress),
 * so an ending that did commit before its connection broke is harmless.
 * What is still unsaved at shutdown stays `in_progress` with its last
 * checkpoint, for the next instance's sweep of abandoned replies.
 */
export class UnsavedEndings {
  private readonly pending = new Map<string, FinishTurnInput>();
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<ChatStore, 'finishTurn'>,
    private readonly logger: Logger,
    private readonly retryMs = 1_000,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  keep(ending: FinishTurnInput): void {
    this.pending.set(ending.messageId, ending);
    this.timer ??= setInterval(() => void this.saveAll(), this.retryMs).unref();
  }

  /** One pass over what is pending; resolves when it is done. Also the last try at shutdown. */
  saveAll(): Promise<void> {
    this.saving = this.saving.then(() => this.savePending());
    return this.saving;
  }

  private async savePending(): Promise<void> {
    for (const [messageId, ending] of this.pending) {
      try {
        await this.store.finishTurn(ending);
        this.logger.info({ messageId }, 'stored a reply ending the database had refused while unavailable');
      } catch (error) {
        // Still away: the rest would fail the same way; try them all on the next beat.
        if (error instanceof AppError && error.code === 'store_unavailable') return;
        // Ended meanwhile (by a sweep) or gone with its conversation: nothing left to store.
        if (!(error instanceof AppError && error.code === 'not_found')) {
          this.logger.warn({ messageId, error: (error as Error).message }, 'gave up storing a reply ending');
        }
      }
      this.pending.delete(messageId);
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
