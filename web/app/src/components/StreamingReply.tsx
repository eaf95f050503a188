import { Markdown } from './Markdown';

/** The reply as it streams in; the typing indicator until its first token. */
export function StreamingReply({ text }: { text: string }) {
  return (
    <article
      class={`message assistant${text === '' ? ' typing' : ''}`}
      data-role="assistant"
      data-streaming="true"
      aria-label="Assistant is replying"
    >
      <div class="avatar" aria-hidden="true">
        AI
      </div>
      <div class="body">
        <div class="bubble">
          {text === '' ? (
            <span class="typing-indicator" role="status" aria-label="Assistant is typing">
              <span />
              <span />
              <span />
            </span>
          ) : (
            <Markdown text={text} />
          )}
        </div>
      </div>
    </article>
  );
}
