import { useEffect, useRef } from 'preact/hooks';

export interface Shortcuts {
  newChat(): void;
  focusInput(): void;
  focusSearch(): void;
  /** Esc: stops a streaming reply; false when there was none, so Esc keeps its usual meaning. */
  stop(): boolean;
}

/**
 * The app's keyboard shortcuts (docs/web.md): Ctrl/Cmd+Shift+O new chat,
 * Shift+Esc focus the message box, Ctrl/Cmd+K search, Esc stop the reply.
 */
export function useShortcuts(shortcuts: Shortcuts): void {
  const latest = useRef(shortcuts);
  latest.current = shortcuts;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const command = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (command && event.shiftKey && key === 'o') {
        event.preventDefault();
        latest.current.newChat();
      } else if (command && !event.shiftKey && key === 'k') {
        event.preventDefault();
        latest.current.focusSearch();
      } else if (event.key === 'Escape' && event.shiftKey) {
        event.preventDefault();
        latest.current.focusInput();
      } else if (event.key === 'Escape' && !command) {
        if (latest.current.stop()) event.preventDefault();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
}
