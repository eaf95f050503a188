import { reportUnexpected } from '../../realtime/unexpected-error.js';
import { socketErrorDetails } from '../../realtime/socket-error-details.js';
import { AppError } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { TurnClient } from '../../chat/turns.js';
import type { ChatStore, Conversation, ConversationTarget, StoredMessage } from '../../store/chat-store.js';
import type { AiResponse, AiSocket } from './ai-namespace-events.js';
import { aiRequestSchema, clearHistorySchema, parsePayload, requestIdOf, type AiRequest, type RequestId } from './ai-namespace-payloads.js';
import { AssistantRequestOrder } from './assistant-request-order.js';

/** Seed 000 keeps one history per user: the user's conversation under this key. */
const assistantClientKey = 'assistant';
const assistantConversation: ConversationTarget = { kind: 'keyed', clientKey: assistantClientKey, create: { surface: 'assistant' } };

/** What resuming an ai_request needs to encode it as the first reader did (see turn:resume). */
export interface AssistantWire {
  kind: 'assistant';
  request: AiRequest;
}

/**
 * Seed 000's events: `ai_request` (streaming or not) and `clear_history`.
 * Requests are told apart by their requestId and may run concurrently; a
 * requestId still running is refused rather than cancelling the first.
 * Seed 000 has no stop: a request's turn ends by itself, or TURN_DETACH_SECONDS
 * after its socket left if the client does not come back.
 */
export function registerAssistantEvents(socket: AiSocket, dependencies: ServerDependencies, client: TurnClient): void {
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
    void order.runRequest(key, async () => {
      try {
        await runAssistantTurn(socket, dependencies, request, client);
      } catch (error) {
        // The engine reports failures as events; this only keeps a bug from going unanswered.
        emitAiError(socket, request.requestId, reportUnexpected(dependencies.logger, error, 'ai_request'));
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
  dependencies: Pick<ServerDependencies, 'config' | 'turns'>,
  request: AiRequest,
  client: TurnClient,
): Promise<void> {
  // The socket may have gone while the request waited for a clear_history.
  if (client.gone.aborted) return;
  const settings = dependencies.config.surfaces.assistant;
  const turn = {
    identity: socket.data.identity,
    target: assistantConversation,
    content: request.prompt,
    options: { ...settings, model: request.model ?? settings.model },
    client: { bucket: 'default', address: socket.handshake.address },
  } as const;
  const wire: AssistantWire = { kind: 'assistant', request };
  await emitAssistantTurn(socket, dependencies.turns.start(turn, { detachable: true, client, wire }), request);
}

/** Emits an ai_request's turn as seed 000's events; a resumed reader skips what the client already has. */
export async function emitAssistantTurn(socket: AiSocket, reader: TurnReader, request: AiRequest): Promise<void> {
  const { requestId, stream } = request;
  for await (const event of reader) {
    if (reader.replaying) continue;
    switch (event.type) {
      case 'message-start':
        if (stream) socket.emit('ai_stream_start', { requestId, model: event.model, messageId: event.messageId });
        break;
      case 'text-delta':
        if (stream) socket.emit('ai_stream_chunk', { requestId, chunk: { text: event.text, isComplete: false }, seq: reader.seq });
        break;
      case 'turn-finish':
        emitReply(socket, request, event.message, reader.seq);
        break;
      case 'turn-error':
        emitAiError(socket, requestId, event.error);
        break;
    }
    // turn-abort: only the detach time running out aborts an ai_request, and then there is nobody to tell.
  }
}

function emitReply(socket: AiSocket, request: AiRequest, message: StoredMessage, seq: number): void {
  const reply: AiResponse = {
    requestId: request.requestId,
    response: message.content,
    model: message.model ?? '',
    messageId: message.id,
    usage: { promptTokens: message.promptTokens ?? 0, completionTokens: message.completionTokens ?? 0 },
  };
  if (!request.stream) return void socket.emit('ai_response', reply);
  // The seed's streaming callback ends with an isComplete chunk before the end event.
  socket.emit('ai_stream_chunk', { requestId: request.requestId, chunk: { text: '', isComplete: true }, seq });
  socket.emit('ai_stream_end', reply);
}

async function clearHistory(socket: AiSocket, { store, logger }: Pick<ServerDependencies, 'logger' | 'store'>): Promise<void> {
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

export function emitAiError(socket: AiSocket, requestId: RequestId | null, error: AppError): void {
  // The engine calls the user's text `message`; on this API it is the `prompt`.
  const details = socketErrorDetails(error, (field) => (field === 'message' ? 'prompt' : field));
  socket.emit('ai_error', { requestId, error: error.message, ...details });
}
