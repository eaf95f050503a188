import type { Message } from '../api/types';

/** `< 2/3 >` between a message's versions (its siblings); nothing on a server without the message tree. */
export function VersionSwitcher({ message, disabled, onShow }: { message: Message; disabled: boolean; onShow(id: string): void }) {
  const { version, versions, sibling_ids: siblings } = message;
  if (version === undefined || versions === undefined || siblings === undefined || versions < 2) return null;
  const go = (offset: number) => {
    const target = siblings[version - 1 + offset];
    if (target !== undefined) onShow(target);
  };
  return (
    <span class="versions" role="group" aria-label="Versions">
      <button type="button" class="small" aria-label="Previous version" disabled={disabled || version <= 1} onClick={() => go(-1)}>
        ‹
      </button>
      <span class="version-count">
        {version}/{versions}
      </span>
      <button type="button" class="small" aria-label="Next version" disabled={disabled || version >= versions} onClick={() => go(1)}>
        ›
      </button>
    </span>
  );
}
