import { reportUnexpected } from '../../realtime/unexpected-error.js';
import { AppError } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { InFlightTurns } from '../../realtime/in-flight-turns.js';
import type { ChatStore, Conversation, ConversationTarget, StoredMessage } from '../../store/chat-store.js';
import type { AiError, AiResponse, AiSocket } from './ai-namespace-events.js';
import { aiRequestSchema, clearHistorySchema, parsePayload, requestIdOf, type AiRequest, type RequestId } from './ai-namespace-payloads.js';
import { AssistantRequestOrder } from './assistant-request-order.js';

/** Seed 000 keeps one history per user: the user's conversation under this key. */
const assistantClientKey = 'assistant';
const assistantConversation: ConversationTarget = { kind: 'keyed', clientKey: assistantClientKey, create: { surface: 'assistant' } };

/**
 * Seed 000's events: `ai_request` (streaming or not) and `clear_history`.
 * Requests are told apart by their requestId and may run concurrently; a
 * requestId still running is refused rather than cancelling the first.
 */
export function registerAssistantEvents(socket: AiSocket, dependencies: ServerDependencies, turns: InFlightTurns): void {
  const order = new AssistantRequestOrder();
  socket.on('ai_request', (payload: unknown) => {
    const request = parsePayload(aiRequestSchema, payload);
    if (request instanceof AppError) return emitAiError(socket, requestIdOf(payload), request);
    const key = `ai_request:${String(request.requestId)}`;
    if (order.isRunning(key)) {
      return emitAiError(
        socket,
        request.requestId,
        new AppError('invalid_request', 'A request with this requestId is still running', { field: 'requestId' }),
      );
    }
    const signal = turns.start(key);
    void order.runRequest(key, async () => {
      try {
        await runAssistantTurn(socket, dependencies, request, signal);
      } catch (error) {
        // The engine reports failures as events; this only keeps a bug from going unanswered.
        emitAiError(socket, request.requestId, reportUnexpected(dependencies.logger, error, 'ai_request'));
      } finally {
        turns.finish(key, signal);
      }
    });
  });
  socket.on('clear_history', (options: unknown) => {
    const parsed = parsePayload(clearHistorySchema, options);
    if (parsed instanceof AppError) return emitAiError(socket, null, parsed);
    void order.runClear(() => clearHistory(socket, dependencies));
  });
}

async function runAssistantTurn(
  socket: AiSocket,
  dependencies: ServerDependencies,
  request: AiRequest,
  signal: AbortSignal,
): Promise<void> {
  // The socket may have gone while the request waited for a clear_history.
  if (signal.aborted) return;
  const settings = dependencies.config.surfaces.assistant;
  const { requestId, stream } = request;
  const events = dependencies.engine.runTurn({
    identity: socket.data.identity,
    target: assistantConversation,
    content: request.prompt,
    options: { ...settings, model: request.model ?? settings.model },
    signal,
    client: { bucket: 'default', address: socket.handshake.address },
  });
  for await (const event of events) {
    switch (event.type) {
      case 'message-start':
        if (stream) socket.emit('ai_stream_start', { requestId, model: event.model });
        break;
      case 'text-delta':
        if (stream) socket.emit('ai_stream_chunk', { requestId, chunk: { text: event.text, isComplete: false } });
        break;
      case 'turn-finish':
        emitReply(socket, request, event.message);
        break;
      case 'turn-error':
        emitAiError(socket, requestId, event.error);
        break;
    }
    // turn-abort: only a disconnect aborts an ai_request, and then there is nobody to tell.
  }
}

function emitReply(socket: AiSocket, request: AiRequest, message: StoredMessage): void {
  const reply: AiResponse = {
    requestId: request.requestId,
    response: message.content,
    model: message.model ?? '',
    messageId: message.id,
    usage: { promptTokens: message.promptTokens ?? 0, completionTokens: message.completionTokens ?? 0 },
  };
  if (!request.stream) return void socket.emit('ai_response', reply);
  // The seed's streaming callback ends with an isComplete chunk before the end event.
  socket.emit('ai_stream_chunk', { requestId: request.requestId, chunk: { text: '', isComplete: true } });
  socket.emit('ai_stream_end', reply);
}

async function clearHistory(socket: AiSocket, { store, logger }: ServerDependencies): Promise<void> {
  const { userId } = socket.data.identity;
  try {
    const conversation = await findAssistantConversation(store, userId);
    // No conversation yet means no history: clearing it succeeds.
    if (conversation !== undefined) await store.clearMessages(userId, conversation.id);
    socket.emit('history_cleared', { success: true });
  } catch (error) {
    emitAiError(socket, null, reportUnexpected(logger, error, 'clear_history'));
  }
}

async function findAssistantConversation(store: ChatStore, userId: string): Promise<Conversation | undefined> {
  const limit = 50;
  for (let page = 1; ; page++) {
    const { items, total } = await store.listConversations(userId, 'assistant', { page, limit });
    const found = items.find((conversation) => conversation.clientKey === assistantClientKey);
    if (found !== undefined || page * limit >= total) return found;
  }
}

function emitAiError(socket: AiSocket, requestId: RequestId | null, error: AppError): void {
  const payload: AiError = { requestId, error: error.message, code: error.code };
  // The engine calls the user's text `message`; on this API it is the `prompt`.
  if (error.field !== undefined) payload.field = error.field === 'message' ? 'prompt' : error.field;
  if (error.retryAfterSeconds !== undefined) payload.retryAfter = error.retryAfterSeconds;
  socket.emit('ai_error', payload);
}
