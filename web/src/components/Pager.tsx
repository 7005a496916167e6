import { type ReactNode, useEffect, useState } from 'react';

/** Keyset pages walked forward and back: the cursors seen so far (the first page has none); back to the first when `resetKey` changes. */
export function useCursors(resetKey: string) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), [resetKey]);
  return {
    cursor: cursors[cursors.length - 1],
    /** 0-based index of the page shown. */
    index: cursors.length - 1,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next: string) => setCursors([...cursors, next]),
  };
}

/** Back and forward buttons around a label; forward is enabled while the server gave a next cursor. */
export function Pager({
  pages,
  nextCursor,
  back,
  forward,
  children,
}: {
  pages: ReturnType<typeof useCursors>;
  nextCursor: string | null | undefined;
  back: string;
  forward: string;
  children: ReactNode;
}) {
  return (
    <div className="row pager">
      <button type="button" disabled={pages.index === 0} onClick={pages.back}>
        {back}
      </button>
      <span>{children}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pages.forward(nextCursor)}>
        {forward}
      </button>
    </div>
  );
}

/** A set with `id` added, or removed when it was there (checkbox selections). */
export function toggled(set: Set<string>, id: string): Set<string> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}
