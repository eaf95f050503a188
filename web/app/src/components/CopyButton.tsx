import { useState } from 'preact/hooks';
import { copyText } from '../lib/clipboard';

export function CopyButton({ text, label = 'Copy message' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    setState((await copyText(text)) ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 1_500);
  };
  return (
    <button type="button" class="small" aria-label={label} onClick={copy}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
