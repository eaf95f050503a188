import type { ChatEngineDependencies, PreparedContext, ReplyProgress } from './chat-engine.js';

export interface ReplyCheckpoints {
  stop(): void;
}

/**
 * Writes a streaming reply's text to its `in_progress` row every
 * `replyCheckpointMs` while it grows, so that a crash loses at most that
 * window of it (the sweep of abandoned replies then ends it as interrupted
 * with this text). Timed, never per token: a reply shorter than the window
 * is written once, when it ends; a write still running skips the next beat.
 */
export function startReplyCheckpoints(
  { store, replyCheckpointMs, logger }: Pick<ChatEngineDependencies, 'store' | 'replyCheckpointMs' | 'logger'>,
  reply: ReplyProgress,
  context: PreparedContext,
): ReplyCheckpoints {
  let writtenLength = 0;
  let writing = false;
  let promptTokens: number | undefined;
  const timer = setInterval(() => {
    if (writing || reply.text.length === writtenLength) return;
    writing = true;
    const content = reply.text;
    if (reply.answeredBy !== undefined) promptTokens ??= reply.usage?.promptTokens ?? context.estimatePromptTokens();
    store.checkpointReply({ messageId: reply.messageId, content, promptTokens: promptTokens ?? null }).then(
      () => {
        writtenLength = content.length;
        writing = false;
      },
      (error: Error) => {
        writing = false;
        logger.warn({ messageId: reply.messageId, error: error.message }, 'could not checkpoint a reply');
      },
    );
  }, replyCheckpointMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
