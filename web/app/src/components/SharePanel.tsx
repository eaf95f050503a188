import { useEffect, useState } from 'preact/hooks';
import { createShareLink, listShareLinks, revokeShareLink } from '../api/other-apis';
import { errorText } from '../api/http';
import type { ShareLink } from '../api/types';
import { sharedUrl } from '../lib/routes';
import { CopyButton } from './CopyButton';

/** The conversation's read-only links: make one, copy it, revoke it. */
export function SharePanel({ conversationId, onClose }: { conversationId: string; onClose(): void }) {
  const [links, setLinks] = useState<ShareLink[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const refresh = () =>
    listShareLinks(conversationId)
      .then((all) => setLinks(all.filter((link) => link.revokedAt === null)))
      .catch((failure: unknown) => setError(errorText(failure)));
  useEffect(() => void refresh(), [conversationId]);
  const act = (action: () => Promise<unknown>) => () => void action().then(refresh, (failure: unknown) => setError(errorText(failure)));
  return (
    <section class="panel" aria-label="Share links">
      <div class="row">
        <h2>Share a read-only link</h2>
        <button type="button" class="icon" aria-label="Close share links" onClick={onClose}>
          ×
        </button>
      </div>
      <p class="muted">Anyone with a link can read this conversation, signed in or not, until you revoke it.</p>
      <button type="button" onClick={act(() => createShareLink(conversationId))}>
        Create link
      </button>
      {error && <p role="alert">{error}</p>}
      <ul class="share-links">
        {links.map((link) => (
          <li key={link.token}>
            <input readOnly aria-label="Share link" value={sharedUrl(link.token)} />
            <CopyButton text={sharedUrl(link.token)} label="Copy link" />
            <button type="button" class="small" onClick={act(() => revokeShareLink(link.token))}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
