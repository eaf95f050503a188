import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Message, Summary } from '../api/types';
import { EmptyState } from './EmptyState';
import { MessageItem, type MessageActions } from './MessageItem';
import { StreamingReply } from './StreamingReply';
import { SummaryNote } from './SummaryNote';

/** How close to the bottom counts as "reading the newest message", in pixels. */
const stickDistance = 48;

export interface MessageListProps {
  messages: Message[];
  summary: Summary | null;
  pendingUser: string | undefined;
  streamingText: string | undefined;
  actions: MessageActions;
  /** A message to scroll to and mark (a search result). */
  focusMessageId: string | undefined;
  onPrompt(prompt: string): void;
}

/**
 * The conversation, scrolled to its end as replies grow, until the person
 * scrolls up to read: from then on it stays where they put it, until they
 * scroll back down. The list is the live region a screen reader follows.
 */
export function MessageList(props: MessageListProps) {
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const { messages, summary, pendingUser, streamingText, focusMessageId } = props;
  const streaming = streamingText !== undefined;
  const empty = messages.length === 0 && pendingUser === undefined && !streaming;

  const onScroll = () => {
    const element = list.current;
    if (element) stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < stickDistance;
  };

  // A message just sent always brings the view down to it.
  useLayoutEffect(() => {
    if (pendingUser !== undefined) stick.current = true;
  }, [pendingUser]);

  useLayoutEffect(() => {
    const element = list.current;
    if (element && stick.current && focusMessageId === undefined) element.scrollTop = element.scrollHeight;
  });

  useEffect(() => {
    if (focusMessageId === undefined) return;
    const target = document.getElementById(`message-${focusMessageId}`);
    if (target) {
      stick.current = false;
      target.scrollIntoView({ block: 'center' });
    }
  }, [focusMessageId, messages]);

  const summaryAfter = summary?.covers_through_message_id;
  const summaryPlaced = summary !== null && messages.some((message) => message.id === summaryAfter);
  return (
    <div
      id="messages"
      class="messages"
      ref={list}
      onScroll={onScroll}
      role="log"
      aria-live="polite"
      aria-busy={streaming}
      aria-label="Conversation"
    >
      {empty && <EmptyState disabled={props.actions.busy} onPrompt={props.onPrompt} />}
      {summary !== null && !summaryPlaced && <SummaryNote summary={summary} />}
      {messages.map((message) => (
        <Fragment key={message.id}>
          <MessageItem message={message} actions={props.actions} highlighted={message.id === focusMessageId} />
          {summary !== null && message.id === summaryAfter && <SummaryNote summary={summary} />}
        </Fragment>
      ))}
      {pendingUser !== undefined && (
        <article class="message user" data-role="user" aria-label="You said">
          <div class="avatar" aria-hidden="true">
            You
          </div>
          <div class="body">
            <div class="bubble">{pendingUser}</div>
          </div>
        </article>
      )}
      {streaming && <StreamingReply text={streamingText} />}
    </div>
  );
}
