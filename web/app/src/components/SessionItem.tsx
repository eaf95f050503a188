import { useRef, useState } from 'preact/hooks';
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
  // The field's blur as it closes after Enter or Esc must not save (again).
  const closed = useRef(false);
  const startEditing = () => {
    closed.current = false;
    setTitle(session.title);
  };
  if (title !== undefined) {
    const close = (save: boolean) => {
      if (closed.current) return;
      closed.current = true;
      const trimmed = title.trim();
      if (save && trimmed !== '' && trimmed !== session.title) onRename(trimmed.slice(0, 200));
      setTitle(undefined);
    };
    const save = (event: Event) => {
      event.preventDefault();
      close(true);
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
            onKeyDown={(event) => event.key === 'Escape' && close(false)}
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
      <button type="button" class="icon" aria-label={`Rename ${session.title}`} onClick={startEditing}>
        ✎
      </button>
      <button type="button" class="icon" aria-label={`Delete ${session.title}`} onClick={onDelete}>
        ✕
      </button>
    </li>
  );
}
