import type { SearchHit } from '../api/types';

/** A snippet with its matches marked: offsets from the server, text nodes here, so no HTML travels. */
function Snippet({ hit }: { hit: SearchHit }) {
  const parts = [];
  let at = 0;
  for (const [start, end] of hit.highlights) {
    if (start > at) parts.push(hit.snippet.slice(at, start));
    parts.push(<mark key={start}>{hit.snippet.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(hit.snippet.slice(at));
  return <span class="snippet">{parts}</span>;
}

export function SearchResults({
  hits,
  titles,
  onOpen,
}: {
  hits: SearchHit[] | undefined;
  titles: Map<string, string>;
  onOpen(hit: SearchHit): void;
}) {
  if (hits === undefined) return <p class="muted">Searching…</p>;
  if (hits.length === 0) return <p class="muted">No messages match.</p>;
  return (
    <ul class="search-results" aria-label="Search results">
      {hits.map((hit) => (
        <li key={hit.messageId}>
          <button type="button" class="search-hit" onClick={() => onOpen(hit)}>
            <span class="hit-title">{hit.conversationTitle ?? titles.get(hit.conversationId) ?? 'Conversation'}</span>
            <Snippet hit={hit} />
          </button>
        </li>
      ))}
    </ul>
  );
}
