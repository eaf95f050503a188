import { AppError } from '../core/errors.js';
import type { UserAccess } from '../store/chat-store.js';

/**
 * What admins set per user, in memory on every instance: who is disabled
 * and whose limits are overridden. Loaded from the store at startup and
 * kept current by UserAccessSync, so that a request costs one Map lookup,
 * never a store read. Only users with a setting are held.
 */
export class UserAccessList {
  private readonly byUser = new Map<string, UserAccess>();

  /** Replaces everything held with the store's list (at startup, and when the sync reconnects). */
  load(list: readonly UserAccess[]): void {
    this.byUser.clear();
    for (const access of list) this.apply(access);
  }

  apply(access: UserAccess): void {
    if (hasSetting(access)) this.byUser.set(access.userId, access);
    else this.byUser.delete(access.userId);
  }

  /** The user's settings, undefined when they have none. */
  of(userId: string): UserAccess | undefined {
    return this.byUser.get(userId);
  }

  /** Throws account_disabled (403) when an admin disabled the user. */
  refuseDisabled(userId: string): void {
    if (this.byUser.get(userId)?.disabled === true) {
      throw new AppError('account_disabled', 'This account is disabled; ask the server admin');
    }
  }
}

function hasSetting(access: UserAccess): boolean {
  return access.disabled || access.tokenBudgetDaily !== null || access.tokenBudgetLifetime !== null || access.rateLimitPerMinute !== null;
}
