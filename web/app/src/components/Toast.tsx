import type { PendingDelete } from '../hooks/use-sessions';

/** "Conversation deleted" with Undo, while the DELETE waits (hooks/use-sessions.ts). */
export function UndoToast({ pending }: { pending: PendingDelete }) {
  return (
    <div class="toast" role="status">
      <span>Deleted “{pending.session.title}”</span>
      <button type="button" onClick={pending.undo}>
        Undo
      </button>
      <button type="button" class="secondary" aria-label="Delete now" onClick={pending.commit}>
        ×
      </button>
    </div>
  );
}
