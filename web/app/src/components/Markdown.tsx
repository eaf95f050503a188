import { useLayoutEffect, useRef } from 'preact/hooks';
import { copyText } from '../lib/clipboard';
import { renderMarkdown } from '../lib/markdown';

/**
 * A reply's Markdown, sanitized (lib/markdown.ts), with a Copy button added
 * to each code block after sanitizing, so the buttons are the app's own.
 */
export function Markdown({ text }: { text: string }) {
  const container = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const element = container.current;
    if (element === null) return;
    element.innerHTML = renderMarkdown(text);
    for (const block of element.querySelectorAll('pre')) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'copy-code';
      button.textContent = 'Copy code';
      button.addEventListener('click', async () => {
        const copied = await copyText(block.querySelector('code')?.textContent ?? block.textContent ?? '');
        button.textContent = copied ? 'Copied' : 'Copy failed';
        setTimeout(() => (button.textContent = 'Copy code'), 1_500);
      });
      const wrapper = document.createElement('div');
      wrapper.className = 'code-block';
      block.replaceWith(wrapper);
      wrapper.append(button, block);
    }
  }, [text]);
  return <div class="markdown" ref={container} />;
}
