import { randomUUID } from 'node:crypto';
import { tokenTemplate, type Exchange } from './fake-exchange.js';
import { countWords, promptWords, textOf, tokenize } from './fake-text.js';
import { defaultReply, openAIToolHistoryError, plannedToolCall, type PlannedToolCall } from './fake-tools.js';

/** The OpenAI API's endpoints, keyed by `METHOD path`. */
export const openaiRoutes: Record<string, (ex: Exchange) => void> = {
  'POST /v1/chat/completions': chatCompletions,
  'POST /v1/embeddings': embeddings,
  'POST /v1/moderations': moderations,
  'POST /v1/audio/transcriptions': transcriptions,
  'POST /v1/audio/speech': speech,
  'GET /v1/models': listModels,
};

export const EMBEDDING_DIMENSIONS = 8;
const SYSTEM_FINGERPRINT = 'fp_fake_upstream';
const MODEL_IDS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'text-embedding-3-small'];

export function openaiError(message: string, type = 'invalid_request_error', param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

/** The body OpenAI itself sends for `status`, used by faults that bring no body of their own. */
export function openaiErrorBody(status: number): unknown {
  switch (status) {
    case 401:
      return openaiError('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key');
    case 429:
      return openaiError('Rate limit reached for requests. Please try again in 2s.', 'requests', null, 'rate_limit_exceeded');
    case 503:
      return openaiError('The engine is currently overloaded, please try again later', 'server_error');
    default:
      if (status >= 500) return openaiError('The server had an error while processing your request. Sorry about that!', 'server_error');
      return openaiError(`Request failed with status ${status}.`);
  }
}

/**
 * A deterministic stand-in embedding: FNV-1a of the text, salted per
 * dimension, mapped to [-1, 1]. Rounded to float32 so the JSON floats and the
 * base64 Float32Array bytes decode to exactly the same numbers.
 */
export function fakeEmbedding(text: string): number[] {
  return Array.from({ length: EMBEDDING_DIMENSIONS }, (_, dim) => Math.fround((fnv1a(`${dim}:${text}`) / 0xffffffff) * 2 - 1));
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Checks the bearer key as OpenAI does; on failure the 401 is already sent. */
function authorized(ex: Exchange): boolean {
  const key = /^Bearer (.+)$/.exec(ex.req.headers.authorization ?? '')?.[1];
  if (key === undefined) {
    const message =
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    ex.send(401, openaiError(message));
    return false;
  }
  if (key === 'sk-bad') {
    const message = `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    ex.send(401, openaiError(message, 'invalid_request_error', null, 'invalid_api_key'));
    return false;
  }
  return true;
}

/** What each body field must be, for the fields an endpoint requires. */
const FIELD_CHECKS = {
  model: (value: unknown) => typeof value === 'string',
  messages: (value: unknown) => Array.isArray(value),
  input: (value: unknown) => value !== undefined,
  voice: (value: unknown) => typeof value === 'string' || (typeof value === 'object' && value !== null),
  // An uploaded file, as the fake's multipart parsing records it (see RecordedRequest.body).
  file: (value: unknown) => typeof value === 'object' && value !== null && Buffer.isBuffer((value as { bytes?: unknown }).bytes),
};

/** Runs OpenAI's checks in its order (auth, body, model); on failure the error is already sent. */
function accepted(ex: Exchange, required: (keyof typeof FIELD_CHECKS)[]): boolean {
  if (!authorized(ex)) return false;
  const body = ex.body;
  const invalid = (message: string, param: string | null = null, code: string | null = null) => {
    ex.send(400, openaiError(message, 'invalid_request_error', param, code));
    return false;
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const multipart = ex.req.headers['content-type']?.startsWith('multipart/form-data');
    if (multipart) return invalid('Could not parse multipart form');
    return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
  }
  for (const field of required) {
    if (FIELD_CHECKS[field](body[field])) continue;
    if (field === 'model') return invalid('you must provide a model parameter');
    if (body[field] === undefined) return invalid(`Missing required parameter: '${field}'.`, field, 'missing_required_parameter');
    return invalid(`Invalid type for '${field}'.`, field, 'invalid_type');
  }
  if (typeof body.model === 'string' && (body.model === 'does-not-exist' || body.model.startsWith('missing-'))) {
    const message = `The model '${body.model}' does not exist or you do not have access to it.`;
    ex.send(404, openaiError(message, 'invalid_request_error', null, 'model_not_found'));
    return false;
  }
  return true;
}

function chatCompletions(ex: Exchange): void {
  if (!accepted(ex, ['model', 'messages'])) return;
  const body = ex.body;
  const invalid = contentError(body.messages) ?? openAIToolHistoryError(body.messages) ?? responseFormatError(body.response_format);
  if (invalid !== undefined) return ex.send(400, openaiError(invalid, 'invalid_request_error', 'messages'));
  const promptTokens = promptWords(body);
  const base = { id: `chatcmpl-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const toolCall = body.tool_choice === 'none' ? undefined : plannedToolCall(body, 'call_', body.tool_choice?.function?.name);
  if (toolCall !== undefined) return callTool(ex, toolCall, base, promptTokens);

  const limit = body.max_completion_tokens ?? body.max_tokens;
  const { tokens, truncated } = jsonRequested(body)
    ? { tokens: tokenize(JSON.stringify({ reply: defaultReply(body) })), truncated: false }
    : ex.planReply(typeof limit === 'number' ? limit : undefined);
  const finishReason = truncated ? 'length' : 'stop';
  const logprobs = body.logprobs === true ? { top: typeof body.top_logprobs === 'number' ? body.top_logprobs : 0 } : undefined;
  const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };

  if (body.stream === true) {
    const includeUsage = ex.behaviour.usage && body.stream_options?.include_usage === true;
    return streamChat(ex, { ...base, tokens, finishReason, usage: includeUsage ? usage : undefined, logprobs });
  }
  ex.send(200, {
    id: base.id,
    object: 'chat.completion',
    created: base.created,
    model: base.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: tokens.join(''), refusal: null },
        logprobs: logprobs === undefined ? null : { content: tokens.map((token) => tokenLogprob(token, logprobs)), refusal: null },
        finish_reason: finishReason,
      },
    ],
    ...(ex.behaviour.usage && { usage }),
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
}

interface ChatStreamPlan {
  id: string;
  created: number;
  model: string;
  tokens: string[];
  finishReason: string;
  /** present only when the client asked for usage (and the behaviour reports it) */
  usage: object | undefined;
  /** present when the client asked for log probabilities: how many alternatives per token */
  logprobs: { top: number } | undefined;
}

/** A made-up but well-formed log probability entry: the token itself at -0.5, then `top` alternatives. */
export function tokenLogprob(token: string, { top }: { top: number }) {
  const entry = (text: string, logprob: number) => ({ token: text, logprob, bytes: [...Buffer.from(text)] });
  return { ...entry(token, -0.5), top_logprobs: Array.from({ length: top }, (_, i) => entry(i === 0 ? token : `${token}${i}`, -0.5 - i)) };
}

function streamChat(ex: Exchange, plan: ChatStreamPlan): void {
  const { id, created, model, usage } = plan;
  // With include_usage, OpenAI puts `"usage": null` on every chunk but the final usage one.
  const chunk = (choices: object[], chunkUsage: object | null = null) => {
    const data = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: SYSTEM_FINGERPRINT, choices };
    return `data: ${JSON.stringify(usage ? { ...data, usage: chunkUsage } : data)}\n\n`;
  };
  const choice = (delta: object, finish_reason: string | null) => ({ index: 0, delta, logprobs: null, finish_reason });

  ex.stream({
    head: [chunk([choice({ role: 'assistant', content: '', refusal: null }, null)])],
    tokens: plan.tokens,
    tokenEvent:
      plan.logprobs === undefined
        ? tokenTemplate((token) => chunk([choice({ content: token }, null)]))
        : (token) =>
            chunk([{ ...choice({ content: token }, null), logprobs: { content: [tokenLogprob(token, plan.logprobs!)], refusal: null } }]),
    tail: [chunk([choice({}, plan.finishReason)]), ...(usage ? [chunk([], usage)] : []), 'data: [DONE]\n\n'],
  });
}

/** Answers with a call of the planned tool, streamed as OpenAI streams tool calls: id and name first, then argument fragments. */
function callTool(ex: Exchange, call: PlannedToolCall, base: { id: string; created: number; model: string }, promptTokens: number): void {
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: call.fragments.length,
    total_tokens: promptTokens + call.fragments.length,
  };
  if (ex.body.stream !== true) {
    const toolCalls = [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }];
    return ex.send(200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: toolCalls, refusal: null },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      ...(ex.behaviour.usage && { usage }),
      system_fingerprint: SYSTEM_FINGERPRINT,
    });
  }
  const includeUsage = ex.behaviour.usage && ex.body.stream_options?.include_usage === true;
  const chunk = (choices: object[], chunkUsage: object | null = null) => {
    const data = { ...base, object: 'chat.completion.chunk', system_fingerprint: SYSTEM_FINGERPRINT, choices };
    return `data: ${JSON.stringify(includeUsage ? { ...data, usage: chunkUsage } : data)}\n\n`;
  };
  const choice = (delta: object, finish_reason: string | null) => ({ index: 0, delta, logprobs: null, finish_reason });
  const start = {
    role: 'assistant',
    content: null,
    tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
  };
  ex.stream({
    head: [chunk([choice(start, null)])],
    tokens: call.fragments,
    tokenEvent: tokenTemplate((fragment) => chunk([choice({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }, null)])),
    tail: [chunk([choice({}, 'tool_calls')]), ...(includeUsage ? [chunk([], usage)] : []), 'data: [DONE]\n\n'],
  });
}

function jsonRequested(body: any): boolean {
  return body.response_format?.type === 'json_object' || body.response_format?.type === 'json_schema';
}

function responseFormatError(format: any): string | undefined {
  if (format === undefined || format.type === 'text' || format.type === 'json_object') return undefined;
  if (format.type !== 'json_schema')
    return `Invalid value: '${format.type}'. Supported values are: 'json_object', 'json_schema', and 'text'.`;
  if (typeof format.json_schema?.name !== 'string') return "Missing required parameter: 'response_format.json_schema.name'.";
  return undefined;
}

/** OpenAI's checks of content parts: text parts hold text, image parts a URL. */
function contentError(messages: any[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    if (!Array.isArray(message?.content)) continue;
    for (const [j, part] of message.content.entries()) {
      if (part?.type === 'text' && typeof part.text === 'string') continue;
      if (part?.type === 'image_url' && /^(https?:|data:image\/)/.test(part.image_url?.url ?? '')) continue;
      return `Invalid content part at 'messages[${i}].content[${j}]'.`;
    }
  }
  return undefined;
}

function embeddings(ex: Exchange): void {
  if (!accepted(ex, ['model', 'input'])) return;
  const { input, model, encoding_format, dimensions } = ex.body;
  const inputs: unknown[] = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  if (inputs.length === 0 || !inputs.every((text): text is string => typeof text === 'string')) {
    return ex.send(400, openaiError("'input' must be a non-empty string or array of strings.", 'invalid_request_error', 'input'));
  }
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && dimensions > 0)) {
    return ex.send(400, openaiError("'dimensions' must be a positive integer.", 'invalid_request_error', 'dimensions'));
  }
  // The openai client asks for base64 by default and decodes it as little-endian float32.
  const encode = encoding_format === 'base64' ? toBase64 : (vector: number[]) => vector;
  // text-embedding-3 shortens a vector by dropping its tail (OpenAI renormalizes; the fake's vectors are not unit length).
  const shorten = (vector: number[]) => (dimensions === undefined ? vector : vector.slice(0, dimensions));
  const promptTokens = countWords(inputs.join(' '));
  ex.send(200, {
    object: 'list',
    data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: encode(shorten(fakeEmbedding(text))) })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/instructions',
  'self-harm/intent',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
];

function moderations(ex: Exchange): void {
  if (!accepted(ex, ['input'])) return;
  const { input, model } = ex.body;
  // A string array is moderated item by item; a multimodal array is one input made of parts.
  const texts: string[] =
    typeof input === 'string' ? [input] : Array.isArray(input) && input.every((item) => typeof item === 'string') ? input : [textOf(input)];
  ex.send(200, {
    id: `modr-${randomUUID().replaceAll('-', '')}`,
    model: typeof model === 'string' ? model : 'omni-moderation-latest',
    results: texts.map(moderate),
  });
}

/** Flags text containing the word FLAGME, as harassment. */
function moderate(text: string) {
  const flagged = /\bFLAGME\b/.test(text);
  const byCategory = <T>(value: (category: string) => T) => Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, value(c)]));
  return {
    flagged,
    categories: byCategory((c) => flagged && c === 'harassment'),
    category_scores: byCategory((c) => (flagged && c === 'harassment' ? 0.98 : 0.0001)),
    category_applied_input_types: byCategory(() => ['text']),
  };
}

/** Hears `behaviour.transcript` in any upload; https://platform.openai.com/docs/api-reference/audio/createTranscription */
function transcriptions(ex: Exchange): void {
  if (!accepted(ex, ['file', 'model'])) return;
  const { transcript } = ex.behaviour;
  // response_format 'text' answers the bare text (with OpenAI's trailing newline); json is the default.
  if (ex.body.response_format === 'text') return ex.send(200, `${transcript}\n`);
  ex.send(200, { text: transcript });
}

/** Answers `behaviour.speech` as the MP3; https://platform.openai.com/docs/api-reference/audio/createSpeech */
function speech(ex: Exchange): void {
  if (!accepted(ex, ['model', 'input', 'voice'])) return;
  ex.res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(ex.behaviour.speech.length) });
  ex.res.end(ex.behaviour.speech);
}

function listModels(ex: Exchange): void {
  if (!authorized(ex)) return;
  const data = MODEL_IDS.map((id) => ({ id, object: 'model', created: 1_715_367_049, owned_by: 'system' }));
  ex.send(200, { object: 'list', data });
}
