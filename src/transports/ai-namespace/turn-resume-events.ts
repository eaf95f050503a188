import { AppError, notFound } from '../../core/errors.js';
import type { TurnClient } from '../../chat/turns.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { turnResumeSchema } from '../../realtime/turn-resume-payload.js';
import { reportUnexpected } from '../../realtime/unexpected-error.js';
import type { AiSocket } from './ai-namespace-events.js';
import { parsePayload } from './ai-namespace-payloads.js';
import { emitAiError, emitAssistantTurn, type AssistantWire } from './assistant-events.js';
import { emitChatError, emitChatTurn, type ChatWire } from './chat-events-handler.js';

/**
 * `turn:resume { turnId, after }` on /ai: a client that reconnected later
 * than connection state recovery covers, or from a new page, picks up one
 * of its user's turns (an ai_request's or a chat:start's) in the events of
 * the API that started it: those after `after`, then the rest live. A turn
 * that is not the user's, or no longer kept, is a `not_found` error event
 * of chat:start's kind (chat:error), the API that names turns by messageId.
 */
export function registerTurnResume(socket: AiSocket, dependencies: Pick<ServerDependencies, 'logger' | 'turns'>, client: TurnClient): void {
  socket.on('turn:resume', (payload: unknown) => {
    const resume = parsePayload(turnResumeSchema, payload);
    if (resume instanceof AppError) return emitChatError(socket, resume);
    let wire: AssistantWire | ChatWire | undefined;
    const resuming = async () => {
      const reader = await dependencies.turns.follow(resume.turnId, socket.data.identity.userId, resume.after, client);
      if (reader === undefined) return emitChatError(socket, notFound('Turn'));
      wire = reader.wire as AssistantWire | ChatWire | undefined;
      await (wire?.kind === 'assistant' ? emitAssistantTurn(socket, reader, wire.request) : emitChatTurn(socket, reader));
    };
    resuming().catch((error: unknown) => {
      const failure = reportUnexpected(dependencies.logger, error, 'turn:resume');
      if (wire?.kind === 'assistant') emitAiError(socket, wire.request.requestId, failure);
      else emitChatError(socket, failure);
    });
  });
}
