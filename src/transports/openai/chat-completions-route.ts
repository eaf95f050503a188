import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ChatEvent } from '../../core/chat-events.js';
import type { TurnRequest } from '../../core/chat-engine.js';
import type { AppError } from '../../core/errors.js';
import { clientDisconnectSignal, openEventStream } from '../../http/event-stream-response.js';
import { httpStatusByCode } from '../../http/http-errors.js';
import { sendError } from '../../http/error-handler.js';
import type { ServerDependencies } from '../../http/server-dependencies.js';
import { ChatCompletionChunks, toOpenAIFinishReason } from './chat-completion-chunks.js';
import { chatCompletionRequestSchema, parseMessages, type ChatCompletionRequest } from './chat-completion-request.js';
import { openAIErrorBody } from './openai-error-body.js';

/**
 * POST /v1/chat/completions in OpenAI's wire format. The API is stateless:
 * the client sends the whole conversation, so each request is stored as a
 * conversation of its own holding the last user message and the reply.
 */
export function registerChatCompletionsRoute(app: FastifyInstance, dependencies: ServerDependencies): void {
  app
    .withTypeProvider<ZodTypeProvider>()
    .post('/v1/chat/completions', { schema: { body: chatCompletionRequestSchema } }, async (request, reply) => {
      const identity = await dependencies.authenticator.requireHeader(request.headers.authorization);
      const body = request.body;
      const parsed = parseMessages(body.messages);
      const turn: TurnRequest = {
        identity,
        target: { kind: 'new', create: { surface: 'openai', systemPrompt: parsed.system ?? null } },
        content: parsed.content,
        suppliedContext: parsed.context,
        options: {
          model: body.model,
          maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
          temperature: body.temperature ?? undefined,
          historyLimit: 0,
        },
        signal: clientDisconnectSignal(reply),
        client: { bucket: 'default', address: request.ip },
      };
      const events = dependencies.engine.runTurn(turn);
      if (body.stream === true) await streamCompletion(reply, events, body);
      else await sendCompletion(reply, events);
    });
}

async function streamCompletion(reply: FastifyReply, events: AsyncIterable<ChatEvent>, body: ChatCompletionRequest): Promise<void> {
  const includeUsage = body.stream_options?.include_usage === true;
  let chunks: ChatCompletionChunks | undefined;
  let usage = '';
  const raw = reply.raw;
  for await (const event of events) {
    switch (event.type) {
      case 'message-start':
        openEventStream(reply);
        chunks = new ChatCompletionChunks(`chatcmpl-${event.messageId}`, event.model, includeUsage);
        raw.write(chunks.role());
        break;
      case 'text-delta':
        raw.write(chunks!.delta(event.text));
        break;
      case 'usage':
        if (includeUsage) usage = chunks!.usage(event.promptTokens, event.completionTokens);
        break;
      case 'turn-finish':
        raw.end(`${chunks!.finish(event.finishReason)}${usage}${ChatCompletionChunks.done}`);
        break;
      case 'turn-error':
        if (chunks === undefined) sendOpenAIError(reply, event.error);
        // After the first byte the status is sent; OpenAI reports a late failure as an error event.
        else raw.end(`data: ${JSON.stringify(openAIErrorBody(event.error, 0))}\n\n`);
        break;
      case 'turn-abort':
        if (!raw.writableEnded) raw.end();
        break;
    }
  }
}

async function sendCompletion(reply: FastifyReply, events: AsyncIterable<ChatEvent>): Promise<void> {
  let text = '';
  for await (const event of events) {
    if (event.type === 'text-delta') text += event.text;
    else if (event.type === 'turn-error') sendOpenAIError(reply, event.error);
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
            message: { role: 'assistant', content: text, refusal: null },
            logprobs: null,
            finish_reason: toOpenAIFinishReason(event.finishReason),
          },
        ],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
  }
}

function sendOpenAIError(reply: FastifyReply, error: AppError): void {
  sendError(reply, httpStatusByCode[error.code], error, openAIErrorBody);
}
