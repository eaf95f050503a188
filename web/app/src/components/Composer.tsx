import type { ComponentChildren, Ref } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

export interface ComposerProps {
  busy: boolean;
  inputRef: Ref<HTMLTextAreaElement>;
  onSend(content: string): void;
  onStop(): void;
  /** More controls beside the send button (voice mode's microphone). */
  children?: ComponentChildren;
}

/** The message box: Enter sends, Shift+Enter is a new line, it grows with its text; Stop while a reply streams. */
export function Composer({ busy, inputRef, onSend, onStop, children }: ComposerProps) {
  const [text, setText] = useState('');
  const fit = (element: HTMLTextAreaElement | null) => {
    if (element === null) return;
    element.style.height = 'auto';
    element.style.height = `${element.scrollHeight}px`;
  };
  useLayoutEffect(() => {
    if (typeof inputRef === 'object' && inputRef !== null) fit(inputRef.current);
  }, [text]);
  const submit = () => {
    if (busy || text.trim() === '') return;
    onSend(text);
    setText('');
  };
  return (
    <form
      id="composer"
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label for="input" class="visually-hidden">
        Message
      </label>
      <textarea
        id="input"
        ref={inputRef}
        rows={1}
        value={text}
        placeholder="Type a message… (Enter to send, Shift+Enter for a new line)"
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          // Enter sends, Shift+Enter is a new line; never while an input method is composing.
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            submit();
          }
        }}
      />
      {children}
      {busy ? (
        <button type="button" id="stop" class="stop" onClick={onStop} aria-keyshortcuts="Escape">
          Stop
        </button>
      ) : (
        <button type="submit" id="send">
          Send
        </button>
      )}
    </form>
  );
}
