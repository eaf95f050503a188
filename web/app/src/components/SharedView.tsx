import { useEffect, useState } from 'preact/hooks';
import { readShared } from '../api/other-apis';
import type { SharedConversation } from '../api/types';
import { Markdown } from './Markdown';

/** A conversation someone shared: read-only, read signed out. */
export function SharedView({ token }: { token: string }) {
  const [shared, setShared] = useState<SharedConversation | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    readShared(token)
      .then(setShared)
      .catch((failure: Error) => setError(failure.message));
  }, [token]);
  return (
    <main class="shared">
      <header class="chat-header">
        <h1>{shared?.title ?? 'Shared conversation'}</h1>
        <span class="muted">Read-only</span>
      </header>
      {error && <p role="alert">{error}</p>}
      <div class="messages" aria-label="Conversation">
        {shared?.messages.map((message, index) => (
          <article key={index} class={`message ${message.role === 'user' ? 'user' : 'assistant'}`} data-role={message.role}>
            <div class="avatar" aria-hidden="true">
              {message.role === 'user' ? 'You' : 'AI'}
            </div>
            <div class="body">
              <div class="bubble">{message.role === 'user' ? message.content : <Markdown text={message.content} />}</div>
            </div>
          </article>
        ))}
      </div>
      <a href="#/">Open the assistant</a>
    </main>
  );
}
