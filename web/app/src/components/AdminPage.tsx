import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * The admin view, fetched the first time it opens (a dynamic import), so
 * people who never open it do not load it with the app.
 */
export function AdminPage() {
  const [view, setView] = useState<FunctionComponent | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import('./admin/AdminView').then((module) => setView(() => module.AdminView)).catch(() => setFailed(true));
  }, []);
  const View = view;
  if (View) return <View />;
  return (
    <section class="admin" aria-label="Admin">
      {failed ? <p role="alert">The admin page could not be loaded; reload to try again.</p> : <p class="muted">Loading…</p>}
    </section>
  );
}
