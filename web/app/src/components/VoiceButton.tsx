import type { VoiceState } from '../lib/voice-session';

const stateText: Record<VoiceState, string> = {
  idle: '',
  starting: 'Starting…',
  listening: 'Listening…',
  thinking: 'Thinking…',
  speaking: 'Speaking…',
};

export interface VoiceButtonProps {
  state: VoiceState;
  /** While a typed reply streams in, voice mode cannot start (it can always stop). */
  disabled: boolean;
  onToggle(): void;
}

/** The microphone beside the composer: starts voice mode in this conversation, shows what it is doing, and stops it. */
export function VoiceButton({ state, disabled, onToggle }: VoiceButtonProps) {
  const active = state !== 'idle';
  return (
    <>
      <span id="voice-status" class="voice-status" role="status" data-voice-state={state}>
        {stateText[state]}
      </span>
      <button
        type="button"
        id="voice"
        class={active ? `voice active ${state}` : 'voice secondary'}
        aria-pressed={active}
        aria-label={active ? `Stop voice mode (${stateText[state].replace('…', '').toLowerCase()})` : 'Start voice mode'}
        title={active ? 'Stop voice mode' : 'Talk instead of typing'}
        disabled={disabled && !active}
        onClick={onToggle}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
          <path
            fill="currentColor"
            d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z"
          />
        </svg>
      </button>
    </>
  );
}
