import { exportConversation } from '../api/other-apis';
import { errorText } from '../api/http';
import { download } from '../lib/download';
import { ModelPicker } from './ModelPicker';

export interface ChatHeaderProps {
  title: string;
  sessionId: string | undefined;
  model: string;
  onModel(model: string): void;
  onMenu(): void;
  onShare(): void;
  onError(text: string): void;
}

/** The conversation's title and what can be done with it: model, export, share. */
export function ChatHeader(props: ChatHeaderProps) {
  const save = (format: 'markdown' | 'json') => async () => {
    if (props.sessionId === undefined) return;
    try {
      const blob = await exportConversation(props.sessionId, format);
      download(blob, `conversation-${props.sessionId}.${format === 'json' ? 'json' : 'md'}`);
    } catch (failure) {
      props.onError(errorText(failure));
    }
  };
  return (
    <header class="chat-header">
      <button type="button" class="icon menu" aria-label="Show conversations" aria-controls="sidebar" onClick={props.onMenu}>
        ☰
      </button>
      <h1 id="chat-title">{props.title}</h1>
      <div class="header-actions">
        <ModelPicker value={props.model} onChange={props.onModel} />
        {props.sessionId !== undefined && (
          <>
            <button type="button" class="small secondary" onClick={save('markdown')}>
              Export Markdown
            </button>
            <button type="button" class="small secondary" onClick={save('json')}>
              Export JSON
            </button>
            <button type="button" class="small secondary" onClick={props.onShare}>
              Share
            </button>
          </>
        )}
      </div>
    </header>
  );
}
