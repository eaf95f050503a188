import type { Authenticator } from '../../auth/authenticator.js';
import { AppError } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';

/**
 * The admin API's gate: no credential is 401, a valid one of a non-admin
 * 403 `forbidden` (see Identity.admin for who is an admin), a disabled
 * user's 403 `account_disabled` like everywhere.
 */
export async function requireAdmin(authenticator: Authenticator, authorization: string | undefined): Promise<Identity> {
  const identity = await authenticator.requireHeader(authorization);
  if (identity.admin !== true) throw new AppError('forbidden', 'Only an admin may use the admin API');
  return identity;
}
