import { useState } from 'preact/hooks';
import type { Session } from '../api/types';

export interface SessionItemProps {
  session: Session;
  active: boolean;
  onOpen(): void;
  onRename(title: string): void;
  onDelete(): void;
}

/** One conversation in the sidebar: open it, rename it in place, delete it (with Undo). */
export function SessionItem({ session, active, onOpen, onRename, onDelete }: SessionItemProps) {
  const [title, setTitle] = useState<string | undefined>(undefined);
  if (title !== undefined) {
    const save = (event: Event) => {
      event.preventDefault();
      const trimmed = title.trim();
      if (trimmed !== '' && trimmed !== session.title) onRename(trimmed.slice(0, 200));
      setTitle(undefined);
    };
    return (
      <li class="session editing">
        <form onSubmit={save}>
          <label class="visually-hidden" for={`rename-${session.id}`}>
            New title
          </label>
          <input
            id={`rename-${session.id}`}
            value={title}
            maxLength={200}
            ref={(element) => element?.focus()}
            onInput={(event) => setTitle(event.currentTarget.value)}
            onKeyDown={(event) => event.key === 'Escape' && setTitle(undefined)}
            onBlur={save}
          />
        </form>
      </li>
    );
  }
  return (
    <li class={`session${active ? ' active' : ''}`}>
      <button type="button" class="session-open" aria-current={active ? 'page' : undefined} onClick={onOpen} title={session.title}>
        {session.title}
      </button>
      <button type="button" class="icon" aria-label={`Rename ${session.title}`} onClick={() => setTitle(session.title)}>
        ✎
      </button>
      <button type="button" class="icon" aria-label={`Delete ${session.title}`} onClick={onDelete}>
        ✕
      </button>
    </li>
  );
}
