import { randomUUID } from 'node:crypto';
import { tokenTemplate, type Exchange } from './fake-exchange.js';
import { promptWords } from './fake-text.js';
import { anthropicToolHistoryError, plannedToolCall, type PlannedToolCall } from './fake-tools.js';

/** The Anthropic Messages API, keyed by `METHOD path`. */
export const anthropicRoutes: Record<string, (ex: Exchange) => void> = {
  'POST /v1/messages': messages,
};

export function anthropicError(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}

/** The body Anthropic itself sends for `status`, used by faults that bring no body of their own. */
export function anthropicErrorBody(status: number): unknown {
  switch (status) {
    case 400:
      return anthropicError('invalid_request_error', 'Invalid request.');
    case 401:
      return anthropicError('authentication_error', 'invalid x-api-key');
    case 403:
      return anthropicError('permission_error', 'Your API key does not have permission to use the specified resource.');
    case 404:
      return anthropicError('not_found_error', 'The requested resource could not be found.');
    case 413:
      return anthropicError('request_too_large', 'Request exceeds the maximum allowed number of bytes.');
    case 429:
      return anthropicError('rate_limit_error', 'Number of requests has exceeded your rate limit. Please try again later.');
    case 529:
      return anthropicError('overloaded_error', 'Overloaded');
    default:
      return anthropicError('api_error', 'Internal server error');
  }
}

/** Runs Anthropic's checks in its order (auth, version, body, model); on failure the error is already sent. */
function accepted(ex: Exchange): boolean {
  // The 1.x SDK sends its key as a bearer token; raw clients use x-api-key. The API takes either.
  const key = ex.req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(ex.req.headers.authorization ?? '')?.[1];
  if (key === undefined || key === 'sk-ant-bad') {
    ex.send(401, anthropicError('authentication_error', 'invalid x-api-key'));
    return false;
  }
  const invalid = (message: string) => {
    ex.send(400, anthropicError('invalid_request_error', message));
    return false;
  };
  if (ex.req.headers['anthropic-version'] === undefined) return invalid('anthropic-version: header is required');
  const body = ex.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('The request body is not valid JSON.');
  if (typeof body.model !== 'string') return invalid('model: Field required');
  if (typeof body.max_tokens !== 'number') return invalid('max_tokens: Field required');
  if (!Array.isArray(body.messages)) return invalid('messages: Field required');
  if (body.model.startsWith('missing-')) {
    ex.send(404, anthropicError('not_found_error', `model: ${body.model}`));
    return false;
  }
  const wrong = roleError(body.messages) ?? blockError(body.messages) ?? anthropicToolHistoryError(body.messages);
  return wrong === undefined ? true : invalid(wrong);
}

function roleError(messages: any[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    if (message?.role !== 'user' && message?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i > 0 && messages[i - 1].role === message.role) return `messages: roles must alternate between "user" and "assistant"`;
  }
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  return undefined;
}

/** Anthropic's checks of content blocks: non-empty text, images as base64 or URL sources. */
function blockError(messages: any[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    if (typeof message.content === 'string') continue;
    if (!Array.isArray(message.content)) return `messages.${i}.content: Input should be a valid list`;
    for (const [j, block] of message.content.entries()) {
      const at = `messages.${i}.content.${j}`;
      if (block?.type === 'text' && (typeof block.text !== 'string' || block.text === ''))
        return `${at}.text: text content blocks must be non-empty`;
      if (block?.type === 'image') {
        const source = block.source;
        const base64 =
          source?.type === 'base64' && /^image\/(jpeg|png|gif|webp)$/.test(source.media_type) && typeof source.data === 'string';
        const url = source?.type === 'url' && /^https?:/.test(source.url);
        if (!base64 && !url)
          return `${at}.source: Input tag '${source?.type}' found using 'type' does not match any of the expected tags: 'base64', 'url'`;
      }
      if (!['text', 'image', 'tool_use', 'tool_result'].includes(block?.type))
        return `${at}.type: Input tag '${block?.type}' is not expected`;
    }
  }
  return undefined;
}

function messages(ex: Exchange): void {
  if (!accepted(ex)) return;
  const body = ex.body;
  const choice = body.tool_choice;
  const toolCall = choice?.type === 'none' ? undefined : plannedToolCall(body, 'toolu_', choice?.type === 'tool' ? choice.name : undefined);
  if (toolCall !== undefined) return callTool(ex, toolCall);
  const { tokens, truncated } = ex.planReply(body.max_tokens);
  const stopReason = truncated ? 'max_tokens' : 'end_turn';
  const message = {
    id: `msg_${randomUUID().replaceAll('-', '')}`,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [{ type: 'text', text: tokens.join('') }],
    stop_reason: stopReason,
    stop_sequence: null,
    // Anthropic always reports usage, whatever behaviour.usage says.
    usage: { input_tokens: promptWords(body), output_tokens: tokens.length },
  };
  if (body.stream === true) return streamMessage(ex, message, tokens);
  ex.send(200, message);
}

/** Answers with a `tool_use` block, streamed as `input_json_delta` fragments. */
function callTool(ex: Exchange, call: PlannedToolCall): void {
  const body = ex.body;
  const message = {
    id: `msg_${randomUUID().replaceAll('-', '')}`,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [{ type: 'tool_use', id: call.id, name: call.name, input: JSON.parse(call.arguments) }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: promptWords(body), output_tokens: call.fragments.length },
  };
  if (body.stream !== true) return ex.send(200, message);
  const event = (data: { type: string; [field: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const start = { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } };
  ex.stream({
    head: [
      event({ type: 'message_start', message: start }),
      event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }),
    ],
    tokens: call.fragments,
    tokenEvent: tokenTemplate((partial_json) =>
      event({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } }),
    ),
    tail: [
      event({ type: 'content_block_stop', index: 0 }),
      event({
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: call.fragments.length },
      }),
      event({ type: 'message_stop' }),
    ],
  });
}

function streamMessage(
  ex: Exchange,
  message: { stop_reason: string; usage: { input_tokens: number; output_tokens: number } },
  tokens: string[],
): void {
  const event = (data: { type: string; [field: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  // message_start carries the message as it is before any output: no content, no stop reason, one output token.
  const start = { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } };

  ex.stream({
    head: [
      event({ type: 'message_start', message: start }),
      event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      event({ type: 'ping' }),
    ],
    tokens,
    tokenEvent: tokenTemplate((text) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
    tail: [
      event({ type: 'content_block_stop', index: 0 }),
      event({
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: null },
        usage: { output_tokens: message.usage.output_tokens },
      }),
      event({ type: 'message_stop' }),
    ],
  });
}
