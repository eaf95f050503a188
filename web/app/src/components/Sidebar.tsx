import type { Ref } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { searchMessages } from '../api/other-apis';
import type { SearchHit, Session } from '../api/types';
import { groupByDay } from '../lib/day-groups';
import { SearchResults } from './SearchResults';
import { SessionItem } from './SessionItem';

export interface SidebarProps {
  sessions: Session[];
  activeId: string | undefined;
  open: boolean;
  searchRef: Ref<HTMLInputElement>;
  onNewChat(): void;
  onOpen(sessionId: string, messageId?: string): void;
  onRename(sessionId: string, title: string): void;
  onDelete(session: Session): void;
  onImport(file: File): void;
  onClose(): void;
  /** The signed-in person may use the admin API (useAdminAccess). */
  showAdmin?: boolean;
}

/** Conversations newest first, grouped by day; a search over every message; import and the other views. */
export function Sidebar(props: SidebarProps) {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHit[] | undefined>(undefined);
  const groups = useMemo(() => groupByDay(props.sessions), [props.sessions]);
  const titles = useMemo(() => new Map(props.sessions.map((session) => [session.id, session.title])), [props.sessions]);

  useEffect(() => {
    if (query.trim() === '') return setHits(undefined);
    setHits(undefined);
    // Asked as the person types, a moment after they pause.
    const timer = setTimeout(() => {
      searchMessages(query)
        .then(setHits)
        .catch(() => setHits([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [query]);

  return (
    <nav id="sidebar" class={`sidebar${props.open ? ' open' : ''}`} aria-label="Conversations">
      <div class="sidebar-top">
        <button type="button" id="new-chat" onClick={props.onNewChat} aria-keyshortcuts="Control+Shift+O Meta+Shift+O">
          New chat
        </button>
        <button type="button" class="icon close-sidebar" aria-label="Close the list" onClick={props.onClose}>
          ×
        </button>
      </div>
      <div role="search">
        <label for="search" class="visually-hidden">
          Search messages
        </label>
        <input
          id="search"
          type="search"
          ref={props.searchRef}
          placeholder="Search messages"
          value={query}
          onInput={(event) => setQuery(event.currentTarget.value)}
        />
      </div>
      <div class="sidebar-list">
        {query.trim() !== '' ? (
          <SearchResults
            hits={hits}
            titles={titles}
            onOpen={(hit) => {
              setQuery('');
              props.onOpen(hit.conversationId, hit.messageId);
            }}
          />
        ) : (
          groups.map((group) => (
            <section class="day-group" key={group.label} aria-label={group.label}>
              <h2>{group.label}</h2>
              <ul>
                {group.items.map((session) => (
                  <SessionItem
                    key={session.id}
                    session={session}
                    active={session.id === props.activeId}
                    onOpen={() => props.onOpen(session.id)}
                    onRename={(title) => props.onRename(session.id, title)}
                    onDelete={() => props.onDelete(session)}
                  />
                ))}
              </ul>
            </section>
          ))
        )}
      </div>
      <div class="sidebar-bottom">
        <label class="button secondary" for="import-file">
          Import JSON
        </label>
        <input
          id="import-file"
          class="visually-hidden"
          type="file"
          accept="application/json,.json"
          onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            if (file) props.onImport(file);
            event.currentTarget.value = '';
          }}
        />
        <a href="#/usage">Usage</a>
        {props.showAdmin && <a href="#/admin">Admin</a>}
        <a href="/voice-assistant">Voice</a>
      </div>
    </nav>
  );
}
