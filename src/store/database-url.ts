import { fileURLToPath } from 'node:url';

/** Where DATABASE_URL says the data lives. */
export type DatabaseLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string };

/**
 * Reads DATABASE_URL. Postgres is `postgres://` or `postgresql://`. A SQLite
 * file is a bare path, or one of the spellings other tools use: `file:<path>`
 * and `sqlite:<path>` (relative unless the path starts with `/`, percent
 * escapes decoded) and `file:///<absolute path>` or `sqlite:///<absolute path>`.
 * Any other scheme (`mysql://`, a misspelt `sqlit:`) is refused rather than
 * taken for a file name, which once created a folder called `sqlite:`.
 * Throws an Error saying what is accepted.
 */
export function databaseLocation(databaseUrl: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return { kind: 'postgres', url: databaseUrl };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl)?.[1]?.toLowerCase();
  // A one-letter scheme is a Windows drive (C:\data\parley.db).
  if (scheme === undefined || scheme.length === 1) return { kind: 'sqlite', path: databaseUrl };
  if (scheme !== 'file' && scheme !== 'sqlite') throw new Error(`${acceptedForms} (the scheme "${scheme}:" is not one of them)`);
  const rest = databaseUrl.slice(scheme.length + 1);
  if (rest.startsWith('//')) {
    // A URL with an authority: only the empty one (`sqlite:///var/x.db`) or localhost names a file here.
    try {
      return { kind: 'sqlite', path: fileURLToPath(`file:${rest}`) };
    } catch {
      throw new Error(`${acceptedForms} ("${scheme}://" must be followed by an absolute path, as in ${scheme}:///var/lib/parley.db)`);
    }
  }
  const path = safeDecode(rest);
  if (path === undefined || path === '') throw new Error(`${acceptedForms} ("${scheme}:" must be followed by a file path)`);
  return { kind: 'sqlite', path };
}

const acceptedForms = 'must be a postgres:// URL, or a SQLite file as a path, file:<path> or sqlite:<path>';

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
