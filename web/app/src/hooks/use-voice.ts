import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorText, savedToken } from '../api/http';
import { VoiceSession, type VoiceState } from '../lib/voice-session';

export interface VoiceOptions {
  /** The open conversation; undefined for a new chat. */
  conversationId: string | undefined;
  /** The open conversation's id, made first for a new chat: voice mode joins an existing conversation. */
  ensureConversation(): Promise<string>;
  /** Reads the open conversation again, after a spoken turn was stored. */
  refresh(): Promise<void>;
}

/**
 * Voice mode in the open conversation (docs/web.md, "Voice mode"): toggled
 * by the microphone button, ended when the person opens another
 * conversation or leaves the page.
 */
export function useVoice(options: VoiceOptions) {
  const [state, setState] = useState<VoiceState>('idle');
  const [heard, setHeard] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const session = useRef<VoiceSession | undefined>(undefined);
  /** Counts starts, so a start the person cancelled (or that a conversation change overtook) is closed when it lands. */
  const attempt = useRef(0);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const stop = useCallback(() => {
    attempt.current++;
    session.current?.stop();
    session.current = undefined;
    setState('idle');
    setHeard(undefined);
  }, []);

  const start = useCallback(async () => {
    const started = ++attempt.current;
    setError(undefined);
    setState('starting');
    try {
      const conversationId = await optionsRef.current.ensureConversation();
      if (attempt.current !== started) return;
      const opened = await VoiceSession.start(conversationId, savedToken(), {
        state: (next) => attempt.current === started && setState(next),
        heard: (text) => attempt.current === started && setHeard(text),
        stored: () => optionsRef.current.refresh(),
        failed: (message) => setError(message),
        ended: () => {
          if (attempt.current !== started) return;
          session.current = undefined;
          setState('idle');
          setHeard(undefined);
        },
      });
      // Cancelled meanwhile, or the person opened another conversation: that one is not where they want to talk.
      const shown = optionsRef.current.conversationId;
      if (attempt.current !== started || (shown !== undefined && shown !== conversationId)) return opened.stop();
      session.current = opened;
    } catch (failure) {
      if (attempt.current !== started) return;
      setState('idle');
      setError(failure instanceof Error ? failure.message : errorText(failure));
    }
  }, []);

  const toggle = useCallback(() => {
    if (state === 'idle') void start();
    else stop();
  }, [state, start, stop]);

  // A session belongs to one conversation: opening another ends it.
  useEffect(() => {
    if (session.current !== undefined && session.current.conversationId !== options.conversationId) stop();
  }, [options.conversationId, stop]);
  useEffect(() => stop, [stop]);

  return { state, heard, error, toggle, stop, dismissError: () => setError(undefined) };
}

export type Voice = ReturnType<typeof useVoice>;
