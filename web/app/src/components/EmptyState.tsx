/** Seed 002's example prompts ("Example Prompts"), word for word. */
export const examplePrompts = [
  'Why has my subscriber count gone down?',
  'Can you help me come up with a viral video idea?',
  'What are the best times to post on social media?',
  'How can I improve engagement with my audience?',
  'What content trends should I follow in 2025?',
  'Help me write a compelling video description',
];

export function EmptyState({ disabled, onPrompt }: { disabled: boolean; onPrompt(prompt: string): void }) {
  return (
    <div id="empty-state" class="empty-state">
      <h2>How can I help?</h2>
      <p>Ask questions, get creative ideas and guidance on content strategy, audience growth and social media. Or try one of these:</p>
      <div class="quick-prompts">
        {examplePrompts.map((prompt) => (
          <button type="button" class="quick-prompt" key={prompt} disabled={disabled} onClick={() => onPrompt(prompt)}>
            {prompt}
          </button>
        ))}
      </div>
    </div>
  );
}
