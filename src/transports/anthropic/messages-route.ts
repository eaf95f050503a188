import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { StartRequest } from '../../chat/turns.js';
import { invalidRequest } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { endAbandoned, httpTurnClient, respondWithTurn } from '../../http/turn-event-stream.js';
import { sendAnthropicError } from './anthropic-error-body.js';
import {
  isKnownAnthropicVersion,
  messagesRequestSchema,
  parseMessages,
  refuseUnsupported,
  samplingOf,
  systemOf,
  toolsOf,
} from './messages-request.js';
import { MessagesStream, toStopReason } from './messages-stream.js';

/**
 * POST /v1/messages, the Anthropic Messages API, for every model Parley
 * routes (Claude, OpenAI-compatible, the demo model): the Anthropic SDK and
 * tools built on it work unchanged. Like /v1/chat/completions it is
 * stateless, each request stored as a conversation of its own, and a client
 * that disconnects stops the turn.
 */
export function registerMessagesRoute(app: FastifyInstance, dependencies: Pick<ServerDependencies, 'authenticator' | 'turns'>): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/messages', { schema: { body: messagesRequestSchema } }, async (request, reply) => {
    const identity = await dependencies.authenticator.requireHeader(authorizationOf(request.headers));
    const version = request.headers['anthropic-version'];
    if (version === undefined) throw invalidRequest('anthropic-version: header is required', 'anthropic-version');
    if (typeof version !== 'string' || !isKnownAnthropicVersion(version)) {
      throw invalidRequest(`anthropic-version: '${String(version)}' is not a version (a date from 2023-01-01 on)`, 'anthropic-version');
    }
    const body = request.body;
    refuseUnsupported(body);
    const { context, last } = parseMessages(body.messages);
    const system = systemOf(body);
    const turn: StartRequest = {
      identity,
      target: { kind: 'new', create: { surface: 'anthropic', systemPrompt: system ?? null } },
      content: last.content,
      ...(last.parts === undefined ? {} : { parts: last.parts }),
      ...(last.toolCallId === undefined ? {} : { toolCallId: last.toolCallId }),
      suppliedContext: context,
      options: {
        model: body.model,
        maxTokens: body.max_tokens,
        temperature: body.temperature,
        sampling: samplingOf(body),
        tools: toolsOf(body),
        historyLimit: 0,
      },
      client: { bucket: 'default', address: request.ip },
    };
    const reader = dependencies.turns.start(turn, { detachable: false, client: httpTurnClient(reply) });
    if (body.stream === true) await respondWithTurn(reply, reader, new MessagesStream(), { resumed: false, eventIds: false });
    else await sendMessage(reply, reader);
  });
}

/** The SDK sends its key as `x-api-key` (or a bearer token with `authToken`); Parley reads either as a bearer credential. */
function authorizationOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  if (typeof headers.authorization === 'string') return headers.authorization;
  const key = headers['x-api-key'];
  return typeof key === 'string' && key !== '' ? `Bearer ${key}` : undefined;
}

type ContentBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown; arguments: string };

async function sendMessage(reply: FastifyReply, reader: TurnReader): Promise<void> {
  const content: ContentBlock[] = [];
  const toolBlocks: Extract<ContentBlock, { type: 'tool_use' }>[] = [];
  for await (const event of reader) {
    if (event.type === 'text-delta') {
      const last = content.at(-1);
      if (last?.type === 'text') last.text += event.text;
      else content.push({ type: 'text', text: event.text });
    } else if (event.type === 'tool-call') {
      const block = { type: 'tool_use' as const, id: event.id, name: event.name, input: {}, arguments: '' };
      toolBlocks[event.index] = block;
      content.push(block);
    } else if (event.type === 'tool-arguments') toolBlocks[event.index]!.arguments += event.arguments;
    else if (event.type === 'turn-error') sendAnthropicError(reply, event.error);
    else if (event.type === 'turn-abort') endAbandoned(reply);
    else if (event.type === 'turn-finish') {
      const message = event.message;
      void reply.send({
        id: `msg_${message.id}`,
        type: 'message',
        role: 'assistant',
        model: message.model,
        content: content.map((block) =>
          block.type === 'text' ? block : { type: 'tool_use', id: block.id, name: block.name, input: toolInput(block.arguments) },
        ),
        stop_reason: toStopReason(event.finishReason),
        stop_sequence: null,
        usage: { input_tokens: message.promptTokens ?? 0, output_tokens: message.completionTokens ?? 0 },
      });
    }
  }
}

/** A call's input as the object Anthropic sends; arguments that are not a JSON object (a model's slip) come as `{}`. */
function toolInput(text: string): unknown {
  try {
    const input: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
  } catch {
    return {};
  }
}
