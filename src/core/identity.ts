/** Who a request acts for. Every transport resolves one before calling the core. */
export interface Identity {
  /** The JWT `sub`, the local user's id, or an anonymous session's id. */
  userId: string;
  /**
   * `user`: a verified token; `local`: single-user mode without JWT_SECRET;
   * `anonymous`: a surface that allows guests (seeds 000 and 003).
   */
  kind: 'user' | 'local' | 'anonymous';
  /**
   * May use the admin API: a token with the claim `admin: true` or
   * `role: "admin"` (a built-in account's first one carries it), or the
   * local user, who owns the server. API keys never do.
   */
  admin?: boolean;
}

export const localIdentity: Identity = { userId: 'local', kind: 'local', admin: true };

/** A guest on a surface that allows one; `id` is the socket's id or an unguessable session id. */
export function anonymousIdentity(id: string): Identity {
  return { userId: `anonymous:${id}`, kind: 'anonymous' };
}
