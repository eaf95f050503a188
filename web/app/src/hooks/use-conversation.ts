import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import * as chat from '../api/chat-api';
import { ApiError, errorText } from '../api/http';
import { readEvents } from '../api/sse';
import type { Message, MessagePage, Summary } from '../api/types';

/** The reply streaming in this tab, to pick up again after a refresh: `{ sessionId, messageId }`. */
const replyKey = 'parley.ai-assistant.streaming-reply';

export interface StreamingReply {
  /** The reply's id, once the server has sent message_start. */
  id?: string;
  text: string;
}

export interface ConversationError {
  text: string;
  retry?: () => void;
  unauthorized?: boolean;
}

export interface ConversationHooks {
  /** A new session was made for the first message. */
  onSessionCreated(sessionId: string): void;
  /** A reply ended: titles and the list may have changed. */
  onReplyEnded(sessionId: string): void;
  onUnauthorized(): void;
  model(): string | undefined;
}

/**
 * One conversation as the page shows it: the server's active branch, plus
 * the exchange being sent and the reply streaming in. After each reply the
 * history is read again, so ids, versions and stats are the server's.
 */
export function useConversation(hooks: ConversationHooks) {
  const [sessionId, setSessionId] = useState<string | undefined>(undefined);
  const [messages, setMessages] = useState<Message[]>([]);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [pendingUser, setPendingUser] = useState<string | undefined>(undefined);
  const [streaming, setStreaming] = useState<StreamingReply | undefined>(undefined);
  const [error, setError] = useState<ConversationError | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const current = useRef<{ sessionId?: string; generation: number; replyId?: string; stopAsked: boolean; turning: boolean }>({
    generation: 0,
    stopAsked: false,
    turning: false,
  });
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const busy = streaming !== undefined;

  const showFailure = useCallback((failure: unknown, retry?: () => void) => {
    const unauthorized = failure instanceof ApiError && failure.status === 401;
    if (unauthorized) hooksRef.current.onUnauthorized();
    setError({
      text: unauthorized ? `${errorText(failure)}. Sign in to continue.` : errorText(failure),
      unauthorized,
      ...(retry ? { retry } : {}),
    });
  }, []);

  const reload = useCallback(async (id: string, generation: number) => {
    const page = await chat.readHistory(id);
    if (current.current.generation !== generation) return page;
    // A reply still being generated is shown by its stream, from its start; a reply that failed before its first word is not shown.
    setMessages(page.messages.filter((message) => message.status !== 'in_progress' && message.content !== ''));
    setSummary(summaryOfBranch(page));
    return page;
  }, []);

  /** Reads a reply's events into `streaming`, re-rendering at most once a frame. Throws on an `error` event. */
  const streamInto = useCallback(async (response: Response, id: string, generation: number) => {
    let text = '';
    let frame: number | undefined;
    let failure: Error | undefined;
    const flush = () => {
      frame = undefined;
      if (current.current.generation === generation) setStreaming((reply) => ({ ...reply, text }));
    };
    try {
      await readEvents(response, (event) => {
        if (current.current.generation !== generation) return;
        if (event.type === 'message_start') {
          current.current.replyId = event.message_id;
          sessionStorage.setItem(replyKey, JSON.stringify({ sessionId: id, messageId: event.message_id }));
          setStreaming((reply) => ({ text: reply?.text ?? '', id: event.message_id }));
          if (current.current.stopAsked) void chat.stopReply(event.message_id).catch(() => undefined);
        } else if (event.type === 'delta') {
          text += event.content;
          frame ??= requestAnimationFrame(flush);
        } else if (event.type === 'done') {
          text = event.message.content;
        } else if (event.type === 'error') {
          failure = new ApiError(event.message, 200, event.code);
        }
      });
    } finally {
      if (frame !== undefined) cancelAnimationFrame(frame);
    }
    sessionStorage.removeItem(replyKey);
    if (failure) throw failure;
  }, []);

  /** Runs one turn (send, edit or regenerate): shows it, streams it, then reads the history again. */
  const runTurn = useCallback(
    async (
      start: (id: string) => Promise<Response>,
      id: string,
      shown: { keep: Message[]; user?: string; edits?: boolean },
      retry: () => void,
    ) => {
      const generation = current.current.generation;
      current.current.turning = true;
      current.current.stopAsked = false;
      current.current.replyId = undefined;
      setError(undefined);
      setMessages(shown.keep);
      setPendingUser(shown.user);
      setStreaming({ text: '' });
      try {
        await streamInto(await start(id), id, generation);
        await reload(id, generation);
        hooksRef.current.onReplyEnded(id);
      } catch (failure) {
        if (current.current.generation === generation) {
          // A failed message disappears from the page with its Retry (as seed 002's page did); an edit shows the server's branch again.
          if (shown.edits) await reload(id, generation).catch(() => undefined);
          else setMessages(shown.keep);
          showFailure(failure, retry);
        }
      } finally {
        if (current.current.generation === generation) {
          setPendingUser(undefined);
          setStreaming(undefined);
          current.current.replyId = undefined;
          current.current.turning = false;
        }
      }
    },
    [reload, streamInto, showFailure],
  );

  const open = useCallback(
    async (id: string | undefined) => {
      if (id === current.current.sessionId) return;
      const generation = ++current.current.generation;
      current.current.sessionId = id;
      current.current.turning = false;
      current.current.replyId = undefined;
      setSessionId(id);
      setMessages([]);
      setSummary(null);
      setPendingUser(undefined);
      setStreaming(undefined);
      setError(undefined);
      if (id === undefined) return;
      setLoading(true);
      try {
        const page = await reload(id, generation);
        await resume(id, page.messages, generation);
      } catch (failure) {
        if (current.current.generation !== generation) return;
        if (failure instanceof ApiError && failure.status === 404) setError({ text: 'This conversation does not exist any more.' });
        else showFailure(failure);
      } finally {
        if (current.current.generation === generation) setLoading(false);
      }
    },
    [reload, showFailure],
  );

  /** After a refresh mid-reply, or on another device: the reply so far, then the rest as it comes. */
  const resume = async (id: string, history: Message[], generation: number) => {
    const saved = JSON.parse(sessionStorage.getItem(replyKey) ?? 'null') as { sessionId: string; messageId: string } | null;
    const inProgress = history.find((message) => message.status === 'in_progress');
    const replyId = inProgress?.id ?? (saved?.sessionId === id ? saved.messageId : undefined);
    if (replyId === undefined || history.some((message) => message.id === replyId && message.status !== 'in_progress')) {
      if (saved?.sessionId === id) sessionStorage.removeItem(replyKey);
      return;
    }
    current.current.replyId = replyId;
    current.current.turning = true;
    setStreaming({ id: replyId, text: '' });
    try {
      await streamInto(await chat.resumeReply(replyId), id, generation);
    } catch (failure) {
      sessionStorage.removeItem(replyKey);
      // No longer kept (or another user's): the history shows what was stored.
      if (!(failure instanceof ApiError && failure.status === 404)) showFailure(failure);
    } finally {
      if (current.current.generation === generation) {
        setStreaming(undefined);
        current.current.replyId = undefined;
        current.current.turning = false;
        await reload(id, generation).catch(() => undefined);
      }
    }
  };

  const send = useCallback(
    async (content: string): Promise<void> => {
      if (current.current.turning || content.trim() === '') return;
      const model = hooksRef.current.model();
      const retry = () => void send(content);
      let id = current.current.sessionId;
      const generation = current.current.generation;
      const startOn = (sessionId: string) => chat.sendMessage(sessionId, content, { model });
      current.current.turning = true;
      setError(undefined);
      setPendingUser(content);
      setStreaming({ text: '' });
      try {
        if (id === undefined) {
          id = (await chat.createSession()).id;
          if (current.current.generation !== generation) return void (current.current.turning = false);
          current.current.sessionId = id;
          setSessionId(id);
          hooksRef.current.onSessionCreated(id);
        }
      } catch (failure) {
        current.current.turning = false;
        setPendingUser(undefined);
        setStreaming(undefined);
        showFailure(failure, retry);
        return;
      }
      const keep = messages;
      await runTurn(
        async (sessionId) => {
          try {
            return await startOn(sessionId);
          } catch (failure) {
            // A conversation deleted elsewhere: start a new one and send again, once.
            if (!(failure instanceof ApiError && failure.status === 404 && failure.message.includes('session'))) throw failure;
            const fresh = (await chat.createSession()).id;
            current.current.sessionId = fresh;
            setSessionId(fresh);
            hooksRef.current.onSessionCreated(fresh);
            return startOn(fresh);
          }
        },
        id,
        { keep, user: content },
        retry,
      );
    },
    [messages, runTurn, showFailure],
  );

  const edit = useCallback(
    (messageId: string, content: string) => {
      const id = current.current.sessionId;
      if (id === undefined || current.current.turning || content.trim() === '') return;
      const index = messages.findIndex((message) => message.id === messageId);
      const keep = index === -1 ? messages : messages.slice(0, index);
      const model = hooksRef.current.model();
      void runTurn(
        (sessionId) => chat.sendMessage(sessionId, content, { model, editOf: messageId }),
        id,
        { keep, user: content, edits: true },
        () => edit(messageId, content),
      );
    },
    [messages, runTurn],
  );

  const regenerate = useCallback(
    (replyId: string) => {
      const id = current.current.sessionId;
      if (id === undefined || current.current.turning) return;
      const index = messages.findIndex((message) => message.id === replyId);
      const keep = index === -1 ? messages : messages.slice(0, index);
      void runTurn(
        () => chat.regenerateReply(replyId, hooksRef.current.model()),
        id,
        { keep, edits: true },
        () => regenerate(replyId),
      );
    },
    [messages, runTurn],
  );

  const showVersion = useCallback(
    async (messageId: string) => {
      const id = current.current.sessionId;
      if (id === undefined || current.current.turning) return;
      try {
        await chat.switchBranch(id, messageId);
        await reload(id, current.current.generation);
      } catch (failure) {
        showFailure(failure);
      }
    },
    [reload, showFailure],
  );

  /** The open conversation's id; a new chat gets its session first (voice mode joins a conversation that exists). */
  const ensureSession = useCallback(async (): Promise<string> => {
    const open = current.current.sessionId;
    if (open !== undefined) return open;
    const generation = current.current.generation;
    const id = (await chat.createSession()).id;
    if (current.current.generation !== generation) throw new ApiError('Another conversation was opened meanwhile.', 0);
    current.current.sessionId = id;
    setSessionId(id);
    hooksRef.current.onSessionCreated(id);
    return id;
  }, []);

  /** Reads the open conversation again, for turns made outside this hook (voice mode); a typed turn in flight reads it when it ends. */
  const refresh = useCallback(async () => {
    const id = current.current.sessionId;
    if (id === undefined || current.current.turning) return;
    await reload(id, current.current.generation);
    hooksRef.current.onReplyEnded(id);
  }, [reload]);

  /** Stops the reply streaming in: the server keeps the partial reply as `interrupted`. */
  const stop = useCallback(() => {
    const replyId = current.current.replyId;
    current.current.stopAsked = true;
    if (replyId !== undefined) void chat.stopReply(replyId).catch((failure: unknown) => showFailure(failure));
  }, [showFailure]);

  // A stream left behind when the page goes is not stopped: the server finishes it and a reload resumes it.
  useEffect(() => () => void current.current.generation++, []);

  return {
    sessionId,
    messages,
    summary,
    pendingUser,
    streaming,
    error,
    loading,
    busy,
    open,
    send,
    edit,
    regenerate,
    showVersion,
    stop,
    ensureSession,
    refresh,
    dismissError: () => setError(undefined),
  };
}

export type Conversation = ReturnType<typeof useConversation>;

/**
 * The server answers the conversation's latest summary, which may stand for
 * another branch (made before an edit or a switch): it is shown only when
 * the message it covers is on this branch, or on a page older than the one shown.
 */
function summaryOfBranch(page: MessagePage): Summary | null {
  const summary = page.summary ?? null;
  if (summary === null) return null;
  const covered = page.messages.some((message) => message.id === summary.covers_through_message_id);
  return covered || page.total > page.messages.length ? summary : null;
}
