import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import * as chat from '../api/chat-api';
import { errorText } from '../api/http';
import type { Session } from '../api/types';

/** How long a deleted conversation can be brought back before the DELETE is sent. */
export const undoDelayMs = 5_000;

export interface PendingDelete {
  session: Session;
  /** Sends the DELETE now. */
  commit(): void;
  undo(): void;
}

/**
 * The person's conversations for the sidebar. Deleting hides one at once and
 * sends the DELETE only after `undoDelayMs` (or when the page goes away), so
 * Undo needs nothing from the server.
 */
export function useSessions(onError: (text: string) => void, enabled: boolean) {
  const [sessions, setSessions] = useState<Session[]>([]);
  const [pendingDelete, setPendingDelete] = useState<PendingDelete | undefined>(undefined);
  const hidden = useRef(new Set<string>());
  const timers = useRef(new Map<string, { timer: ReturnType<typeof setTimeout>; send: (keepalive: boolean) => void }>());

  const refresh = useCallback(async () => {
    try {
      const list = await chat.listSessions();
      setSessions(list.filter((session) => !hidden.current.has(session.id)));
      return list;
    } catch (failure) {
      onError(errorText(failure));
      return [];
    }
  }, [onError]);

  useEffect(() => {
    if (enabled) void refresh();
  }, [enabled, refresh]);

  // Deletes still waiting for their Undo are sent when the page is left.
  useEffect(() => {
    const flush = () => {
      for (const pending of timers.current.values()) pending.send(true);
    };
    addEventListener('pagehide', flush);
    return () => removeEventListener('pagehide', flush);
  }, []);

  const remove = useCallback(
    (session: Session) => {
      hidden.current.add(session.id);
      setSessions((list) => list.filter((item) => item.id !== session.id));
      const send = (keepalive: boolean) => {
        const pending = timers.current.get(session.id);
        if (pending === undefined) return;
        clearTimeout(pending.timer);
        timers.current.delete(session.id);
        setPendingDelete((shown) => (shown?.session.id === session.id ? undefined : shown));
        chat.deleteSession(session.id, keepalive).catch((failure: unknown) => onError(errorText(failure)));
      };
      timers.current.set(session.id, { timer: setTimeout(() => send(false), undoDelayMs), send });
      setPendingDelete({
        session,
        commit: () => send(false),
        undo: () => {
          const pending = timers.current.get(session.id);
          if (pending) clearTimeout(pending.timer);
          timers.current.delete(session.id);
          hidden.current.delete(session.id);
          setPendingDelete(undefined);
          void refresh();
        },
      });
    },
    [onError, refresh],
  );

  const rename = useCallback(
    async (sessionId: string, title: string) => {
      try {
        const renamed = await chat.renameSession(sessionId, title);
        setSessions((list) => list.map((item) => (item.id === sessionId ? { ...item, title: renamed.title } : item)));
      } catch (failure) {
        onError(errorText(failure));
      }
    },
    [onError],
  );

  return { sessions, refresh, remove, rename, pendingDelete };
}
