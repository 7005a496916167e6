import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { BatchClient } from '../../../client/src/index';
import { useCreateBatch } from '../../../client/src/react';
import { Pager, toggled, useCursors } from '../components/Pager';
import { navigate } from '../route';
import { number, problemOf } from '../words';

const PAGE = 25;
const FULL_TEXT_WORDS: Record<string, string> = {
  none: 'not fetched',
  available: 'available',
  not_available: 'not available',
  failed: 'fetch failed',
};

/** The caller's papers with the state of their full text; selected ones are fetched by a papers.fetch-fulltext batch. */
export function PapersView({ client, enabled }: { client: BatchClient; enabled: boolean }) {
  const pages = useCursors('');
  const cursor = pages.cursor;
  const page = useQuery({
    queryKey: ['papers', cursor],
    queryFn: () => client.listPapers({ limit: PAGE, cursor }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState('');
  const create = useCreateBatch(client);
  const queryClient = useQueryClient();
  const rows = page.data?.data ?? [];
  const toggle = (id: string) => setSelected(toggled(selected, id));
  const fetchable = rows.filter((p) => p.fullTextStatus !== 'available');
  const fetchFullText = (ids: string[]) => {
    setError('');
    create.mutate(
      {
        operation: 'papers.fetch-fulltext',
        items: ids.map((paperId) => ({ paperId })),
        metadata: { source: 'papers page' },
      },
      {
        onSuccess: (batch) => {
          void queryClient.invalidateQueries({ queryKey: ['papers'] });
          navigate(`batches/${encodeURIComponent(batch.id)}`);
        },
        onError: (e) => setError(problemOf(e)),
      },
    );
  };
  return (
    <section aria-labelledby="papers-title" className="card">
      <h2 id="papers-title">Your papers</h2>
      <p className="help">
        {page.data ? `${number(page.data.total)} papers. ` : ''}Select papers to fetch their full text
        (open-access copy first, then the publisher); the fetch runs as a batch you can follow.
      </p>
      <div className="row wrap">
        <button
          type="button"
          disabled={!enabled || selected.size === 0 || create.isPending}
          onClick={() => fetchFullText([...selected])}
        >
          Fetch full text of {number(selected.size)} selected
        </button>
        <button
          type="button"
          disabled={!enabled || fetchable.length === 0 || create.isPending}
          onClick={() => fetchFullText(fetchable.map((p) => p.id))}
        >
          Fetch all {number(fetchable.length)} without full text on this page
        </button>
      </div>
      <p role="alert" className="error">
        {error}
      </p>
      {rows.length === 0 && page.isSuccess ? (
        <p className="empty">No papers yet: import some with a papers.import batch.</p>
      ) : (
        <div className="table-wrap">
          <table id="papers-table">
            <caption className="visually-hidden">Your papers with the state of their full text</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Select</span>
                </th>
                <th scope="col">Title</th>
                <th scope="col">DOI</th>
                <th scope="col">Full text</th>
                <th scope="col">Words</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${p.title}`}
                      checked={selected.has(p.id)}
                      onChange={() => toggle(p.id)}
                    />
                  </td>
                  <td>{p.title}</td>
                  <td className="doi">{p.doi ?? ''}</td>
                  <td>{FULL_TEXT_WORDS[p.fullTextStatus] ?? p.fullTextStatus}</td>
                  <td className="num">{p.fullTextWords ? number(p.fullTextWords) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={page.data?.nextCursor} back="Newer" forward="Older">
        Page {pages.index + 1}
      </Pager>
    </section>
  );
}
