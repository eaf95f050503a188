import type { StartRequest } from '../../chat/turns.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { StreamSession } from './session-identity.js';

/**
 * One turn of seed 003, the same for SSE and Socket.IO: a sessionId names
 * the owner's keyed conversation, so both paths continue the same history.
 */
export function streamV2Turn(
  dependencies: Pick<ServerDependencies, 'config'>,
  session: StreamSession,
  content: string,
  clientAddress: string | undefined,
): StartRequest {
  return {
    identity: session.identity,
    target: { kind: 'keyed', clientKey: session.sessionId, create: { surface: 'stream-v2' } },
    content,
    options: { ...dependencies.config.surfaces.streamV2 },
    // Seed 003: SSE and Socket.IO share one budget; guests are also counted per address.
    client: { bucket: 'stream-v2', address: clientAddress },
  };
}
