import type { Summary } from '../api/types';

/** Where the server summarized the oldest turns to fit the context window (issue 15 item 9). */
export function SummaryNote({ summary }: { summary: Summary }) {
  return (
    <details class="summary-note">
      <summary>Earlier conversation summarized</summary>
      <p>{summary.content}</p>
    </details>
  );
}
