import type { ConversationError } from '../hooks/use-conversation';

export function ErrorBanner({ error, onDismiss }: { error: ConversationError; onDismiss(): void }) {
  return (
    <div id="error" class="error" role="alert">
      <span id="error-text">{error.text}</span>
      <span class="row">
        {error.retry && (
          <button
            type="button"
            id="retry"
            onClick={() => {
              onDismiss();
              error.retry?.();
            }}
          >
            Retry
          </button>
        )}
        <button type="button" class="secondary" aria-label="Dismiss error" onClick={onDismiss}>
          ×
        </button>
      </span>
    </div>
  );
}
