import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { importConversation, whoAmI } from '../api/other-apis';
import { ApiError, errorText, saveToken } from '../api/http';
import { useAdminAccess } from '../hooks/use-admin-access';
import { useConversation } from '../hooks/use-conversation';
import { useSessions } from '../hooks/use-sessions';
import { useShortcuts } from '../hooks/use-shortcuts';
import { chatHash, parseRoute, type Route } from '../lib/routes';
import { AdminPage } from './AdminPage';
import { ChatView } from './ChatView';
import { SharedView } from './SharedView';
import { Sidebar } from './Sidebar';
import { SignIn } from './SignIn';
import { UndoToast } from './Toast';
import { UsageView } from './UsageView';

const modelKey = 'parley.model';
const defaultTitle = 'New Chat';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The app: a signed-in person's conversations beside the open one; a shared link's read-only view for anyone. */
export function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<'checking' | 'signed-in' | 'needs-sign-in'>('checking');
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [model, setModel] = useState(() => localStorage.getItem(modelKey) ?? '');
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const titleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const checkAuth = useCallback(() => {
    whoAmI()
      .then(() => setAuth('signed-in'))
      .catch((failure: unknown) => setAuth(failure instanceof ApiError && failure.status === 401 ? 'needs-sign-in' : 'signed-in'));
  }, []);
  useEffect(checkAuth, [checkAuth]);

  const sessions = useSessions(setNotice, auth === 'signed-in');
  const admin = useAdminAccess(auth === 'signed-in');
  const conversation = useConversation({
    onSessionCreated: (id) => {
      location.hash = chatHash(id);
      void sessions.refresh();
    },
    onReplyEnded: (id) => {
      // The server titles a conversation after its first reply, outside the stream: read the list again, and once more later.
      clearTimeout(titleTimer.current);
      void sessions.refresh().then((list) => {
        if (list.find((session) => session.id === id)?.title === defaultTitle)
          titleTimer.current = setTimeout(() => void sessions.refresh(), 2_000);
      });
    },
    onUnauthorized: () => {
      saveToken(null);
      setAuth('needs-sign-in');
    },
    model: () => model || undefined,
  });

  const sessionId = route.view === 'chat' ? route.sessionId : undefined;
  useEffect(() => {
    if (auth === 'signed-in' && route.view === 'chat') void conversation.open(sessionId);
  }, [auth, route.view, sessionId]);

  const newChat = () => {
    location.hash = chatHash();
    setSidebarOpen(false);
    inputRef.current?.focus();
  };
  useShortcuts({
    newChat,
    focusInput: () => inputRef.current?.focus(),
    focusSearch: () => {
      setSidebarOpen(true);
      searchRef.current?.focus();
    },
    stop: () => {
      if (!conversation.busy) return false;
      conversation.stop();
      return true;
    },
  });

  const importFile = async (file: File) => {
    try {
      const imported = await importConversation(JSON.parse(await file.text()));
      await sessions.refresh();
      location.hash = chatHash(imported.conversationId);
    } catch (failure) {
      setNotice(failure instanceof SyntaxError ? 'That file is not JSON.' : errorText(failure));
    }
  };

  if (route.view === 'shared') return <SharedView token={route.token} />;
  if (auth === 'checking') return <p class="muted loading-app">Loading…</p>;
  if (auth === 'needs-sign-in') return <SignIn onSignedIn={checkAuth} />;

  const active = sessions.sessions.find((session) => session.id === conversation.sessionId);
  return (
    <div class="layout">
      <Sidebar
        sessions={sessions.sessions}
        activeId={conversation.sessionId}
        open={sidebarOpen}
        searchRef={searchRef}
        onNewChat={newChat}
        onOpen={(id, messageId) => {
          location.hash = chatHash(id, messageId);
          setSidebarOpen(false);
        }}
        onRename={(id, title) => void sessions.rename(id, title)}
        onDelete={(session) => {
          sessions.remove(session);
          if (session.id === conversation.sessionId) location.hash = chatHash();
        }}
        onImport={(file) => void importFile(file)}
        onClose={() => setSidebarOpen(false)}
        showAdmin={admin}
      />
      {route.view === 'usage' ? (
        <main class="chat">
          <UsageView />
        </main>
      ) : route.view === 'admin' ? (
        <main class="chat">
          <AdminPage />
        </main>
      ) : (
        <ChatView
          conversation={conversation}
          title={active?.title ?? (conversation.sessionId === undefined ? 'AI Assistant' : defaultTitle)}
          focusMessageId={route.view === 'chat' ? route.messageId : undefined}
          model={model}
          inputRef={inputRef}
          onModel={(chosen) => {
            setModel(chosen);
            localStorage.setItem(modelKey, chosen);
          }}
          onMenu={() => setSidebarOpen(true)}
          onError={setNotice}
        />
      )}
      {sessions.pendingDelete && <UndoToast pending={sessions.pendingDelete} />}
      {notice && (
        <div class="toast notice" role="alert">
          <span>{notice}</span>
          <button type="button" class="secondary" aria-label="Dismiss" onClick={() => setNotice(undefined)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
