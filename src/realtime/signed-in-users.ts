import type { Identity } from '../core/identity.js';

/**
 * The users a socket's events have been accepted for, kept on `socket.data`
 * so that disabling a user ends their open sockets (app.ts). One default
 * namespace socket can carry seed 003's per-event tokens and seed 004's
 * handshake token, hence a list rather than one identity. A plain array:
 * with connection state recovery through Redis, socket.data is serialized
 * (a Set would not survive, and breaks the session's recovery).
 */
interface SignedInData {
  signedInUsers?: string[];
}

export function rememberSignedIn(socket: { data: unknown }, identity: Identity): void {
  if (identity.kind === 'anonymous') return;
  const data = socket.data as SignedInData;
  const users = (data.signedInUsers ??= []);
  if (!users.includes(identity.userId)) users.push(identity.userId);
}

export function isSignedInAs(socket: { data: unknown }, userId: string): boolean {
  return (socket.data as SignedInData).signedInUsers?.includes(userId) === true;
}
