import { useState } from 'preact/hooks';
import type { Message } from '../api/types';
import { CopyButton } from './CopyButton';
import { Markdown } from './Markdown';
import { ReplyStats } from './ReplyStats';
import { VersionSwitcher } from './VersionSwitcher';

export interface MessageActions {
  busy: boolean;
  onEdit(messageId: string, content: string): void;
  onRegenerate(messageId: string): void;
  onShowVersion(messageId: string): void;
}

/** One message: avatar, bubble (the user's words as text, replies as sanitized Markdown), then its actions. */
export function MessageItem({ message, actions, highlighted }: { message: Message; actions?: MessageActions; highlighted?: boolean }) {
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const isUser = message.role === 'user';
  // The message tree's fields are there only on a server that has branches.
  const canBranch = actions !== undefined && message.parent_id !== undefined;
  const saveEdit = (event: Event) => {
    event.preventDefault();
    if (editing === undefined || editing.trim() === '') return;
    actions?.onEdit(message.id, editing);
    setEditing(undefined);
  };
  return (
    <article
      id={`message-${message.id}`}
      class={`message ${message.role}${highlighted ? ' highlighted' : ''}`}
      data-role={message.role}
      aria-label={isUser ? 'You said' : 'Assistant replied'}
    >
      <div class="avatar" aria-hidden="true">
        {isUser ? 'You' : 'AI'}
      </div>
      <div class="body">
        {editing !== undefined ? (
          <form class="edit-form" onSubmit={saveEdit}>
            <label class="visually-hidden" for={`edit-${message.id}`}>
              Edit message
            </label>
            <textarea id={`edit-${message.id}`} value={editing} rows={3} onInput={(event) => setEditing(event.currentTarget.value)} />
            <div class="row">
              <button type="submit">Save and send</button>
              <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <div class="bubble">{isUser ? message.content : <Markdown text={message.content} />}</div>
        )}
        <div class="meta">
          {actions && <VersionSwitcher message={message} disabled={actions.busy} onShow={actions.onShowVersion} />}
          {!isUser && <ReplyStats message={message} />}
          <CopyButton text={message.content} />
          {canBranch && isUser && editing === undefined && (
            <button type="button" class="small" disabled={actions.busy} onClick={() => setEditing(message.content)}>
              Edit
            </button>
          )}
          {canBranch && !isUser && (
            <button type="button" class="small" disabled={actions.busy} onClick={() => actions.onRegenerate(message.id)}>
              Regenerate
            </button>
          )}
        </div>
      </div>
    </article>
  );
}
