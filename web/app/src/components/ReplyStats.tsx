import type { Message } from '../api/types';

const seconds = (ms: number) => (ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`);

/** A reply's model, tokens and latency, from the fields the server stored. */
export function ReplyStats({ message }: { message: Message }) {
  const parts: string[] = [];
  if (message.model) parts.push(message.model);
  if (message.tokens !== null) parts.push(`${message.tokens} tokens`);
  if (message.time_to_first_token_ms != null) parts.push(`first token ${seconds(message.time_to_first_token_ms)}`);
  if (message.latency_ms !== null) parts.push(`total ${seconds(message.latency_ms)}`);
  if (message.status !== 'complete') parts.push(message.status);
  if (parts.length === 0) return null;
  return <span class="stats">{parts.join(' · ')}</span>;
}
