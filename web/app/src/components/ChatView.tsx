import type { Ref } from 'preact';
import { useState } from 'preact/hooks';
import type { Conversation } from '../hooks/use-conversation';
import { useVoice } from '../hooks/use-voice';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { ErrorBanner } from './ErrorBanner';
import { MessageList } from './MessageList';
import { SharePanel } from './SharePanel';
import { VoiceButton } from './VoiceButton';

export interface ChatViewProps {
  conversation: Conversation;
  title: string;
  focusMessageId: string | undefined;
  model: string;
  inputRef: Ref<HTMLTextAreaElement>;
  onModel(model: string): void;
  onMenu(): void;
  onError(text: string): void;
}

/** The open conversation: header, messages, error with Retry, the composer with voice mode's microphone. */
export function ChatView({ conversation, title, focusMessageId, model, inputRef, onModel, onMenu, onError }: ChatViewProps) {
  const [sharing, setSharing] = useState(false);
  const voice = useVoice({
    conversationId: conversation.sessionId,
    ensureConversation: conversation.ensureSession,
    refresh: conversation.refresh,
  });
  const voiceError = voice.error === undefined ? undefined : { text: voice.error };
  const actions = {
    busy: conversation.busy,
    onEdit: conversation.edit,
    onRegenerate: conversation.regenerate,
    onShowVersion: (id: string) => void conversation.showVersion(id),
  };
  return (
    <main class="chat" aria-labelledby="chat-title">
      <ChatHeader
        title={title}
        sessionId={conversation.sessionId}
        model={model}
        onModel={onModel}
        onMenu={onMenu}
        onShare={() => setSharing(!sharing)}
        onError={onError}
      />
      {sharing && conversation.sessionId !== undefined && (
        <SharePanel conversationId={conversation.sessionId} onClose={() => setSharing(false)} />
      )}
      <MessageList
        messages={conversation.messages}
        summary={conversation.summary}
        pendingUser={conversation.pendingUser ?? voice.heard}
        streamingText={conversation.streaming?.text}
        actions={actions}
        focusMessageId={focusMessageId}
        onPrompt={(prompt) => void conversation.send(prompt)}
      />
      {conversation.error ? (
        <ErrorBanner error={conversation.error} onDismiss={conversation.dismissError} />
      ) : (
        voiceError && <ErrorBanner error={voiceError} onDismiss={voice.dismissError} />
      )}
      <Composer busy={conversation.busy} inputRef={inputRef} onSend={(text) => void conversation.send(text)} onStop={conversation.stop}>
        <VoiceButton state={voice.state} disabled={conversation.busy} onToggle={voice.toggle} />
      </Composer>
    </main>
  );
}
