import { useEffect, useState } from 'preact/hooks';
import { listAdminUsers } from '../api/admin-api';

/**
 * Whether the signed-in person may use the admin API. No endpoint says so
 * (GET /api/v1/auth/me names only the user), so the app asks the smallest
 * admin read and shows the admin link only when it answers 200; the admin
 * page itself still handles a refusal.
 */
export function useAdminAccess(signedIn: boolean): boolean {
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (!signedIn) return setAdmin(false);
    let current = true;
    listAdminUsers(1)
      .then(() => current && setAdmin(true))
      .catch(() => current && setAdmin(false));
    return () => {
      current = false;
    };
  }, [signedIn]);
  return admin;
}
