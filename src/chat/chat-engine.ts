import type { ChatEvent } from './chat-events.js';
import { contextWindowFor, fitToBudget } from './context-window.js';
import { AppError, invalidRequest, toAppError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import { countTokens, messageOverheadTokens } from '../core/token-counter.js';
import { ActiveTurns } from './active-turns.js';
import { startReplyCheckpoints, type ReplyCheckpoints } from './reply-checkpoints.js';
import { UnsavedEndings } from './unsaved-endings.js';
import { HistorySummaries, summaryMessage } from './history-summary.js';
import type { TurnClient, TurnGuard } from './turn-guard.js';
import type { TurnObserver, TurnOutcome } from './turn-observer.js';
import type { ProviderRequestTrace, TurnTrace, TurnTracer } from './turn-tracer.js';
import type {
  ChatMessage,
  ContentPart,
  FinishReason,
  ProviderStreamPart,
  ResponseFormat,
  SamplingOptions,
  ToolCall,
  ToolOptions,
} from '../providers/chat-provider.js';
import type { OpenedReply, ProviderRegistry, ResolvedModel } from '../providers/provider-registry.js';
import type {
  BeginTurnResult,
  ChatStore,
  Conversation,
  ConversationTarget,
  FinishTurnInput,
  MessageStatus,
  StoredMessage,
  TurnBranch,
} from '../store/chat-store.js';

export interface TurnOptions {
  model: string;
  /** Used when the conversation has no system prompt of its own. */
  systemPrompt?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  sampling?: SamplingOptions | undefined;
  tools?: ToolOptions | undefined;
  responseFormat?: ResponseFormat | undefined;
  /** How many stored messages to send as context. */
  historyLimit: number;
}

export interface TurnRequest {
  identity: Identity;
  target: ConversationTarget;
  /** The new user message (its text, when it holds images too). */
  content: string;
  /** The new message's parts, when it holds images: sent to the provider, only its text is stored. */
  parts?: ContentPart[];
  /** Set when the new message is a tool's result, for the call with this id: stored with role `tool`. */
  toolCallId?: string;
  /**
   * An edit or a regenerated reply (a new branch of an existing conversation).
   * A regeneration's prompt ends with the stored message its reply answers.
   */
  branch?: TurnBranch;
  options: TurnOptions;
  /**
   * Context the client sends itself (the OpenAI-compatible API is stateless):
   * used instead of stored history, as given, without trimming.
   */
  suppliedContext?: ChatMessage[];
  signal: AbortSignal;
  /** The rate-limit bucket and client address; the `default` bucket when absent. */
  client?: TurnClient;
  /** The trace this turn's span goes under (opaque to the engine: the tracer's own context). */
  traceParent?: unknown;
}

export interface ChatEngineDependencies {
  store: ChatStore;
  providers: ProviderRegistry;
  guard: TurnGuard;
  /** Context window of models the engine does not know. */
  defaultContextWindow: number;
  /** How often a streaming reply's text is written to the store. */
  replyCheckpointMs: number;
  logger: Logger;
  /** Told of each turn's start and end (metrics). */
  observer?: TurnObserver | undefined;
  /** Traces each turn (OpenTelemetry); absent when tracing is off. */
  tracer?: TurnTracer | undefined;
  /**
   * Called once a turn whose reply was stored complete has sent its last
   * event, for work that follows a reply off the turn's path (automatic
   * titles); it must not throw or block.
   */
  afterTurn?: (turn: CompletedTurn) => void;
}

/** A turn whose reply was stored complete, as afterTurn is told of it. */
export interface CompletedTurn {
  identity: Identity;
  /** As beginTurn read it, at the turn's start. */
  conversation: Conversation;
  /** The history beginTurn read, before the user message. */
  history: StoredMessage[];
  userMessage: StoredMessage;
  reply: StoredMessage;
  /** The model the turn asked for. */
  model: string;
}

export interface PreparedContext {
  system: string | undefined;
  messages: ChatMessage[];
  /** Prompt tokens as the tokenizer counts them, used when the provider reports none. */
  estimatePromptTokens: () => number;
  /** Set when stored history did not fit the context window whole: its budget, for a summary of what was left out. */
  trimmed?: { budget: number; fixedTokens: number; window: number };
}

/** An upstream request sent before the user message was stored (see openBeforeStoring). */
interface EarlyUpstream {
  context: PreparedContext;
  opening: Promise<OpenedReply>;
  trace: ProviderRequestTrace | undefined;
  cancel(): void;
  done(): void;
}

/** What is known of a reply while it streams. */
export interface ReplyProgress {
  messageId: string;
  /** Set once the provider has accepted the request. */
  answeredBy: { model: string; provider: string } | undefined;
  text: string;
  /** The tools the reply calls, their arguments as far as they have arrived. */
  toolCalls: ToolCall[];
  firstTokenAt: number | undefined;
  usage: Extract<ProviderStreamPart, { type: 'usage' }> | undefined;
  finishReason: FinishReason;
  failure: AppError | undefined;
}

/**
 * The chat engine: one turn is "store the user message, stream the reply,
 * store the reply". It yields ChatEvents and never throws for a failed turn;
 * transports only translate the events. A transport consumes the stream to
 * its end and cancels through the request's signal: the engine then stores
 * the partial reply as interrupted and yields `turn-abort`.
 */
export class ChatEngine {
  private readonly systemPromptTokens = new Map<string, number>();
  private readonly activeTurns = new ActiveTurns();
  private readonly unsavedEndings: UnsavedEndings;
  private readonly historySummaries: HistorySummaries;

  constructor(private readonly dependencies: ChatEngineDependencies) {
    this.unsavedEndings = new UnsavedEndings(dependencies.store, dependencies.logger);
    this.historySummaries = new HistorySummaries(dependencies);
  }

  async *runTurn(request: TurnRequest): AsyncGenerator<ChatEvent, void, undefined> {
    const startedAt = performance.now();
    const trace = this.dependencies.tracer?.startTurn(request.options.model, request.traceParent);
    const turn = this.activeTurns.start(request.signal);
    const signal = turn.signal;
    let release: (() => void) | undefined;
    let earlyUpstream: EarlyUpstream | undefined;
    let checkpoints: ReplyCheckpoints | undefined;
    // One generator for the whole turn: every nested generator would add a promise hop per streamed read.
    try {
      let resolved: ResolvedModel;
      let begun: BeginTurnResult;
      let beginning: ((failure?: unknown) => void) | undefined;
      try {
        release = await this.dependencies.guard.admit(request.identity, request.content, signal, request.client, request.options.maxTokens);
        resolved = this.dependencies.providers.resolve(request.options.model);
        const tokens = countTokens(request.content);
        this.assertFits(tokens, resolved.model, request.options);
        // A client gone while the turn was being admitted leaves nothing behind.
        if (signal.aborted) {
          yield abortEvent(signal, undefined);
          return;
        }
        earlyUpstream = this.openBeforeStoring(request, resolved, signal, trace);
        beginning = trace?.startPhase('store.begin_turn');
        begun = await this.dependencies.store.beginTurn({
          userId: request.identity.userId,
          target: request.target,
          content: request.content,
          tokens,
          ...(request.toolCallId === undefined ? {} : { toolCallId: request.toolCallId }),
          historyLimit: request.suppliedContext === undefined ? request.options.historyLimit : 0,
          reply: { model: resolved.model, provider: resolved.provider },
          ...(request.branch === undefined ? {} : { branch: request.branch }),
        });
      } catch (error) {
        earlyUpstream?.cancel();
        const refusal = toAppError(error);
        beginning?.(refusal);
        trace?.refused(refusal.code);
        this.dependencies.observer?.turnRefused(refusal.code);
        yield { type: 'turn-error', error: refusal, message: undefined };
        return;
      }
      beginning?.();
      this.dependencies.observer?.turnStarted(begun.conversation.surface);
      yield {
        type: 'turn-start',
        conversation: begun.conversation,
        conversationCreated: begun.created,
        userMessage: begun.userMessage,
        replyId: begun.replyId,
        replySiblingIds: begun.replySiblingIds,
      };

      let context = earlyUpstream?.context ?? this.prepareContext(request, begun, resolved.model);
      if (context.trimmed !== undefined) context = await this.summarizeLeftOut(request, begun, resolved, context.trimmed, signal);
      const reply: ReplyProgress = {
        messageId: begun.replyId,
        answeredBy: undefined,
        text: '',
        toolCalls: [],
        firstTokenAt: undefined,
        usage: undefined,
        finishReason: 'stop',
        failure: undefined,
      };
      checkpoints = startReplyCheckpoints(this.dependencies, reply, context);
      const providerTrace = earlyUpstream?.trace ?? trace?.startProviderRequest(resolved.provider, resolved.model);
      try {
        const opened = await (earlyUpstream?.opening ?? this.open(resolved, context, request, signal, providerTrace));
        reply.answeredBy = opened;
        yield { type: 'message-start', messageId: reply.messageId, model: opened.model, provider: opened.provider };
        for await (const part of opened.parts) {
          if (part.type === 'text-delta') {
            reply.firstTokenAt ??= performance.now();
            reply.text += part.text;
            yield part;
          } else if (part.type === 'tool-arguments') {
            reply.toolCalls[part.index]!.arguments += part.arguments;
            yield part;
          } else if (part.type === 'tool-call') {
            reply.firstTokenAt ??= performance.now();
            reply.toolCalls[part.index] = { id: part.id, name: part.name, arguments: '' };
            yield part;
          } else if (part.type === 'logprobs') yield part;
          else if (part.type === 'usage') reply.usage = part;
          else reply.finishReason = part.reason;
        }
      } catch (error) {
        if (!signal.aborted) reply.failure = toAppError(error);
      }
      checkpoints.stop();
      if (providerTrace !== undefined) {
        if (reply.firstTokenAt !== undefined) providerTrace.firstToken(reply.firstTokenAt);
        providerTrace.end(reply.failure);
      }
      const closing = await this.endTurn(request, signal, begun, resolved, context, reply, startedAt, trace);
      yield* closing;
      const finished = closing.at(-1);
      if (finished?.type === 'turn-finish') this.dependencies.afterTurn?.({ ...completedTurn(request, begun), reply: finished.message });
    } finally {
      checkpoints?.stop();
      earlyUpstream?.done();
      release?.();
      turn.end();
      trace?.close();
    }
  }

  /**
   * Shutdown, first step: turns started from now on end at once with a
   * `turn-error` carrying `reason`, before anything is stored. Resolves once
   * the running ones have ended by themselves.
   */
  drain(reason: AppError): Promise<void> {
    return this.activeTurns.drain(reason);
  }

  /**
   * Shutdown, once the grace period is over: every running turn stores its
   * partial reply as interrupted and ends with a `turn-error` carrying
   * `reason`, so every surface sends its error event. Resolves once they
   * have all ended.
   */
  interruptActiveTurns(reason: AppError): Promise<void> {
    return this.activeTurns.interruptAll(reason);
  }

  /** Shutdown, last step before the store closes: one more try at the reply endings the store refused while unavailable. */
  saveUnsavedEndings(): Promise<void> {
    return this.unsavedEndings.saveAll();
  }

  /** How many turns are running now. */
  get activeTurnCount(): number {
    return this.activeTurns.size;
  }

  private open(
    resolved: ResolvedModel,
    context: PreparedContext,
    request: TurnRequest,
    signal: AbortSignal,
    providerTrace: ProviderRequestTrace | undefined,
  ): Promise<OpenedReply> {
    return resolved.open({
      system: context.system,
      messages: context.messages,
      maxTokens: request.options.maxTokens,
      temperature: request.options.temperature,
      sampling: request.options.sampling,
      tools: request.options.tools,
      responseFormat: request.options.responseFormat,
      signal,
      onRetry: providerTrace === undefined ? undefined : (attempt) => providerTrace.retried(attempt),
    });
  }

  /**
   * A stateless turn (the OpenAI-compatible API: a new conversation, the
   * context supplied by the client) needs nothing from the store to ask the
   * provider, so its upstream request goes out while the user message is
   * being stored: about a millisecond less to the first token. If storing
   * fails, the upstream request is cancelled. Other turns send stored
   * history and must wait for it.
   */
  private openBeforeStoring(
    request: TurnRequest,
    resolved: ResolvedModel,
    signal: AbortSignal,
    trace: TurnTrace | undefined,
  ): EarlyUpstream | undefined {
    const { suppliedContext, target } = request;
    if (suppliedContext === undefined || target.kind !== 'new') return undefined;
    const system = target.create.systemPrompt ?? request.options.systemPrompt;
    const messages: ChatMessage[] = [...suppliedContext, newMessage(request)];
    const context: PreparedContext = { system, messages, estimatePromptTokens: () => countMessages(system, messages) };
    // Follows the turn's signal by hand (AbortSignal.any costs a transferable object per request on Node 20).
    const cancellation = new AbortController();
    const followClient = () => cancellation.abort(signal.reason);
    signal.addEventListener('abort', followClient, { once: true });
    const providerTrace = trace?.startProviderRequest(resolved.provider, resolved.model);
    const opening = this.open(resolved, context, request, cancellation.signal, providerTrace);
    // Awaited later, or dropped if storing fails: never an unhandled rejection.
    opening.catch(() => {});
    return {
      context,
      opening,
      trace: providerTrace,
      cancel() {
        providerTrace?.end();
        cancellation.abort();
        // An upstream that already answered is closed, with its timers.
        opening.then(
          (opened) => opened.parts[Symbol.asyncIterator]().return?.(),
          () => {},
        );
      },
      done: () => signal.removeEventListener('abort', followClient),
    };
  }

  /** Ends the reply beginTurn stored and returns the turn's closing events. */
  private async endTurn(
    request: TurnRequest,
    signal: AbortSignal,
    begun: BeginTurnResult,
    resolved: ResolvedModel,
    context: PreparedContext,
    reply: ReplyProgress,
    startedAt: number,
    trace: TurnTrace | undefined,
  ): Promise<ChatEvent[]> {
    const { answeredBy, text, usage } = reply;
    let failure = reply.failure;
    const status: MessageStatus = failure !== undefined ? 'failed' : signal.aborted ? 'interrupted' : 'complete';
    // A request the provider never accepted cost no prompt tokens.
    const promptTokens = answeredBy !== undefined ? (usage?.promptTokens ?? context.estimatePromptTokens()) : 0;
    const completionTokens = usage?.completionTokens ?? countTokens(text);
    const events: ChatEvent[] = [];
    if (status === 'complete') events.push({ type: 'usage', promptTokens, completionTokens });

    let message: StoredMessage | undefined;
    const ending: FinishTurnInput = {
      userId: request.identity.userId,
      conversationId: begun.conversation.id,
      messageId: reply.messageId,
      content: text,
      status,
      model: answeredBy?.model ?? resolved.model,
      provider: answeredBy?.provider ?? resolved.provider,
      promptTokens,
      completionTokens,
      timeToFirstTokenMs: reply.firstTokenAt === undefined ? null : Math.round(reply.firstTokenAt - startedAt),
      latencyMs: Math.round(performance.now() - startedAt),
      ...(reply.toolCalls.length === 0 ? {} : { toolCalls: reply.toolCalls }),
    };
    const finishing = trace?.startPhase('store.finish_turn');
    try {
      message = await this.dependencies.store.finishTurn(ending);
      finishing?.();
    } catch (error) {
      finishing?.(error);
      failure ??= toAppError(error);
      if (error instanceof AppError && error.code === 'store_unavailable') this.unsavedEndings.keep(ending);
    }
    this.logTurn(request, begun, resolved, status, failure, message, trace);
    const outcome: TurnOutcome = {
      surface: begun.conversation.surface,
      status: failure !== undefined && status === 'complete' ? 'failed' : status,
      provider: ending.provider,
      model: ending.model,
      timeToFirstTokenMs: ending.timeToFirstTokenMs,
      durationMs: ending.latencyMs,
      promptTokens,
      completionTokens,
      failureCode: failure?.code,
    };
    this.dependencies.observer?.turnEnded(outcome);
    trace?.end(outcome, reply.finishReason);
    if (failure !== undefined) events.push({ type: 'turn-error', error: failure, message });
    else if (status === 'interrupted') events.push(abortEvent(signal, message));
    else events.push({ type: 'turn-finish', message: message!, finishReason: reply.finishReason });
    return events;
  }

  private assertFits(tokens: number, model: string, options: TurnOptions): void {
    const window = contextWindowFor(model, this.dependencies.defaultContextWindow);
    const reserve = options.maxTokens ?? 0;
    if (tokens + reserve > window) {
      throw invalidRequest(
        `The message is ${tokens} tokens; with ${reserve} reserved for the reply it does not fit ${model}'s ${window}-token context window`,
        'message',
      );
    }
  }

  private prepareContext(request: TurnRequest, begun: BeginTurnResult, model: string): PreparedContext {
    const system = begun.conversation.systemPrompt ?? request.options.systemPrompt;
    const userMessage = request.branch?.kind === 'regenerate' ? toChatMessage(begun.userMessage) : newMessage(request);
    if (request.suppliedContext !== undefined) {
      const messages = [...request.suppliedContext, userMessage];
      return { system, messages, estimatePromptTokens: () => countMessages(system, messages) };
    }
    const window = contextWindowFor(model, this.dependencies.defaultContextWindow);
    const systemTokens = system === undefined ? 0 : this.countSystemPrompt(system);
    const fixedTokens = systemTokens + begun.userMessage.tokens + messageOverheadTokens;
    const budget = window - (request.options.maxTokens ?? 0) - fixedTokens;
    const { kept, tokens } = fitToBudget(begun.history, budget);
    const messages: ChatMessage[] = kept.map(toChatMessage);
    messages.push(userMessage);
    const context: PreparedContext = { system, messages, estimatePromptTokens: () => fixedTokens + tokens };
    if (kept.length < begun.history.length) context.trimmed = { budget, fixedTokens, window };
    return context;
  }

  /** The context of a turn whose history did not fit: a summary of what was left out (history-summary.ts) and the newest messages. */
  private async summarizeLeftOut(
    request: TurnRequest,
    begun: BeginTurnResult,
    resolved: ResolvedModel,
    trimmed: NonNullable<PreparedContext['trimmed']>,
    signal: AbortSignal,
  ): Promise<PreparedContext> {
    const fitted = await this.historySummaries.fit({
      userId: request.identity.userId,
      conversationId: begun.conversation.id,
      history: begun.history,
      budget: trimmed.budget,
      window: trimmed.window,
      resolved,
      signal,
    });
    const messages = fitted.summary === undefined ? [] : [summaryMessage(fitted.summary)];
    messages.push(...fitted.kept.map(toChatMessage), newMessage(request));
    const system = begun.conversation.systemPrompt ?? request.options.systemPrompt;
    return { system, messages, estimatePromptTokens: () => trimmed.fixedTokens + fitted.tokens };
  }

  /** System prompts repeat on every turn; count each distinct one once. */
  private countSystemPrompt(system: string): number {
    let tokens = this.systemPromptTokens.get(system);
    if (tokens === undefined) {
      tokens = countTokens(system) + messageOverheadTokens;
      if (this.systemPromptTokens.size > 1000) this.systemPromptTokens.clear();
      this.systemPromptTokens.set(system, tokens);
    }
    return tokens;
  }

  private logTurn(
    request: TurnRequest,
    begun: BeginTurnResult,
    resolved: ResolvedModel,
    status: MessageStatus,
    failure: AppError | undefined,
    message: StoredMessage | undefined,
    trace: TurnTrace | undefined,
  ): void {
    const fields = {
      ...(trace === undefined ? {} : { traceId: trace.traceId }),
      userId: request.identity.userId,
      conversationId: begun.conversation.id,
      messageId: message?.id,
      model: message?.model ?? resolved.model,
      provider: message?.provider ?? resolved.provider,
      status,
      promptTokens: message?.promptTokens,
      completionTokens: message?.completionTokens,
      latencyMs: message?.latencyMs,
    };
    if (failure === undefined) this.dependencies.logger.info(fields, 'turn ended');
    else this.dependencies.logger.warn({ ...fields, code: failure.code, error: describeFailure(failure) }, 'turn failed');
  }
}

/**
 * How an interrupted turn ends: `turn-abort` when its caller cancelled it,
 * `turn-error` with the reason when the server interrupted it (shutdown).
 */
function abortEvent(signal: AbortSignal, message: StoredMessage | undefined): ChatEvent {
  const reason: unknown = signal.reason;
  if (reason instanceof AppError) return { type: 'turn-error', error: reason, message };
  return { type: 'turn-abort', message };
}

/** The message of an unexpected error's cause, without its stack, for the log only. */
function describeFailure(failure: AppError): string {
  if (failure.code !== 'internal_error') return failure.message;
  return failure.cause instanceof Error ? `${failure.cause.name}: ${failure.cause.message}` : failure.message;
}

function countMessages(system: string | undefined, messages: ChatMessage[]): number {
  let tokens = system === undefined ? 0 : countTokens(system) + messageOverheadTokens;
  for (const message of messages) tokens += countTokens(message.content) + messageOverheadTokens;
  return tokens;
}

function completedTurn(request: TurnRequest, begun: BeginTurnResult): Omit<CompletedTurn, 'reply'> {
  const { conversation, history, userMessage } = begun;
  return { identity: request.identity, conversation, history, userMessage, model: request.options.model };
}

/** The turn's new message as the provider is sent it. */
function newMessage(request: TurnRequest): ChatMessage {
  if (request.toolCallId !== undefined) return { role: 'tool', content: request.content, toolCallId: request.toolCallId };
  return request.parts === undefined
    ? { role: 'user', content: request.content }
    : { role: 'user', content: request.content, parts: request.parts };
}

/** A stored message as context, its tool calls or call id kept so that the provider sees the exchange whole. */
function toChatMessage(message: StoredMessage): ChatMessage {
  const context: ChatMessage = { role: message.role, content: message.content };
  if (message.toolCalls !== undefined) context.toolCalls = message.toolCalls;
  if (message.toolCallId !== undefined) context.toolCallId = message.toolCallId;
  return context;
}
