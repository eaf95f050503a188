import type { Socket } from 'socket.io';
import type { TurnClient, Turns } from '../chat/turns.js';

/**
 * A socket, to the turns it starts or resumes. It is gone at disconnect,
 * but its readers go on emitting to its id: Socket.IO's connection state
 * recovery keeps those packets and replays them to a client that comes
 * back within SOCKET_RECOVERY_SECONDS, under the same id, which then holds
 * its turns again. Call once per connection.
 */
export function socketTurnClient(socket: Socket, turns: Turns): TurnClient {
  const gone = new AbortController();
  socket.once('disconnect', () => gone.abort());
  if (socket.recovered) turns.rejoin(socket.id, gone.signal);
  return { gone: gone.signal, endsWithClient: false, key: socket.id };
}
