import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TurnReader } from '../../chat/turn-reader.js';
import type { StartRequest } from '../../chat/turns.js';
import { notFound } from '../../core/errors.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { endAbandoned, httpTurnClient, respondWithTurn, resumePoint } from '../../http/turn-event-stream.js';
import { toOpenAIFinishReason } from './chat-completion-chunks.js';
import {
  chatCompletionRequestSchema,
  parseMessages,
  refuseUnsupported,
  responseFormatOf,
  samplingOf,
  toolsOf,
} from './chat-completion-request.js';
import { ChatCompletionStream, type ChatCompletionWire } from './chat-completion-stream.js';
import { sendOpenAIError } from './openai-error-body.js';

/** Asks for a turn that survives the client: it goes on when the connection drops and can be resumed. */
const resumableHeader = 'x-parley-resumable';

const resumeSchema = {
  params: z.object({ turnId: z.string().min(1).max(200) }),
  querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
};

/**
 * POST /v1/chat/completions in OpenAI's wire format. The API is stateless:
 * the client sends the whole conversation, so each request is stored as a
 * conversation of its own holding the last user message and the reply.
 *
 * A disconnect aborts the turn (an OpenAI client that aborts wants to stop
 * paying), unless the request said `X-Parley-Resumable: true`: then the
 * stream's events carry ids and GET /v1/chat/completions/{turnId}/stream
 * picks it up again.
 */
export function registerChatCompletionsRoute(
  app: FastifyInstance,
  dependencies: Pick<ServerDependencies, 'authenticator' | 'turns'>,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post('/v1/chat/completions', { schema: { body: chatCompletionRequestSchema } }, async (request, reply) => {
    const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
    const body = request.body;
    refuseUnsupported(body);
    const parsed = parseMessages(body.messages);
    const turn: StartRequest = {
      identity,
      target: { kind: 'new', create: { surface: 'openai', systemPrompt: parsed.system ?? null } },
      content: parsed.last.content,
      ...(parsed.last.parts === undefined ? {} : { parts: parsed.last.parts }),
      ...(parsed.last.toolCallId === undefined ? {} : { toolCallId: parsed.last.toolCallId }),
      suppliedContext: parsed.context,
      options: {
        model: body.model,
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
        temperature: body.temperature ?? undefined,
        sampling: samplingOf(body),
        tools: toolsOf(body),
        responseFormat: responseFormatOf(body),
        historyLimit: 0,
      },
      client: { bucket: 'default', address: request.ip },
    };
    const resumable = request.headers[resumableHeader] === 'true';
    const wire: ChatCompletionWire = { includeUsage: body.stream_options?.include_usage === true };
    const reader = dependencies.turns.start(turn, { detachable: resumable, client: httpTurnClient(reply), wire });
    if (body.stream === true) await respondWithTurn(reply, reader, new ChatCompletionStream(wire), { resumed: false, eventIds: resumable });
    else await sendCompletion(reply, reader);
  });

  routes.get('/v1/chat/completions/:turnId/stream', { schema: resumeSchema }, async (request, reply) => {
    const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
    // The completion's id (chatcmpl-…) names the same turn.
    const turnId = request.params.turnId.replace(/^chatcmpl-/, '');
    const after = resumePoint(request, request.query.after);
    const reader = await dependencies.turns.follow(turnId, identity.userId, after, httpTurnClient(reply));
    if (reader === undefined) return sendOpenAIError(reply, notFound('Streaming completion'));
    const wire = (reader.wire as ChatCompletionWire | undefined) ?? { includeUsage: false };
    await respondWithTurn(reply, reader, new ChatCompletionStream(wire), { resumed: true, eventIds: true });
  });

  routes.post('/v1/chat/completions/:turnId/stop', { schema: { params: resumeSchema.params } }, async (request, reply) => {
    const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
    const turnId = request.params.turnId.replace(/^chatcmpl-/, '');
    const outcome = await dependencies.turns.stop(turnId, identity.userId);
    if (outcome === 'unknown') return sendOpenAIError(reply, notFound('Streaming completion'));
    return reply.code(outcome === 'stopped' ? 202 : 200).send({ stopped: outcome === 'stopped' });
  });
}

async function sendCompletion(reply: FastifyReply, reader: TurnReader): Promise<void> {
  let text = '';
  const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = [];
  let logprobs: unknown[] | undefined;
  for await (const event of reader) {
    if (event.type === 'text-delta') text += event.text;
    else if (event.type === 'tool-call')
      toolCalls[event.index] = { id: event.id, type: 'function', function: { name: event.name, arguments: '' } };
    else if (event.type === 'tool-arguments') toolCalls[event.index]!.function.arguments += event.arguments;
    else if (event.type === 'logprobs') (logprobs ??= []).push(...event.content);
    else if (event.type === 'turn-error') sendOpenAIError(reply, event.error);
    else if (event.type === 'turn-abort') endAbandoned(reply);
    else if (event.type === 'turn-finish') {
      const message = event.message;
      const promptTokens = message.promptTokens ?? 0;
      const completionTokens = message.completionTokens ?? 0;
      void reply.send({
        id: `chatcmpl-${message.id}`,
        object: 'chat.completion',
        created: Math.floor(Date.parse(message.createdAt) / 1000),
        model: message.model,
        system_fingerprint: null,
        choices: [
          {
            index: 0,
            message:
              toolCalls.length === 0
                ? { role: 'assistant', content: text, refusal: null }
                : { role: 'assistant', content: text === '' ? null : text, refusal: null, tool_calls: toolCalls },
            logprobs: logprobs === undefined ? null : { content: logprobs, refusal: null },
            finish_reason: toOpenAIFinishReason(event.finishReason),
          },
        ],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
  }
}
