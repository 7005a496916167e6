import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import type { BatchClient, BatchView, ListBatchesQuery } from '../../../client/src/index';
import { useBatch, useBatches } from '../../../client/src/react';
import { Pager, useCursors } from '../components/Pager';
import { Counts, ProgressBar } from '../components/ProgressBar';
import { href, navigate, type Route } from '../route';
import type { Session } from '../session';
import { problemOf, STATUS_WORDS, statusWord, timeAgo } from '../words';

const PAGE = 20;
const BATCH_STATUSES = [
  'pending',
  'processing',
  'paused',
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
];

/** Batches as a paged table, filtered by status, operation, text (id or metadata) and, for admins, owner; the filters are in the URL. */
export function BatchesView({
  client,
  route,
  session,
}: {
  client: BatchClient;
  route: Route;
  session: Session;
}) {
  const filters = {
    status: route.params.get('status') ?? '',
    operation: route.params.get('operation') ?? '',
    q: route.params.get('q') ?? '',
    owner: route.params.get('owner') ?? '',
  };
  const pages = useCursors(JSON.stringify(filters));
  const cursor = pages.cursor;
  const query: ListBatchesQuery = {
    limit: PAGE,
    cursor,
    status: (filters.status || undefined) as ListBatchesQuery['status'],
    operation: filters.operation || undefined,
    q: filters.q || undefined,
    userId: session.admin ? filters.owner || undefined : undefined,
  };
  const page = useQuery({
    queryKey: ['batches', query],
    queryFn: () => client.listBatches(query),
    placeholderData: keepPreviousData,
  });
  const operations = useQuery({ queryKey: ['operations'], queryFn: () => client.listOperations() });
  // A batch created in another tab or device shows up on the first page.
  const live = useBatches(client);
  const queryClient = useQueryClient();
  const newest = live.batches[0]?.id;
  useEffect(() => {
    if (newest) void queryClient.invalidateQueries({ queryKey: ['batches'] });
  }, [newest, queryClient]);

  const [text, setText] = useState(filters.q);
  const [owner, setOwner] = useState(filters.owner);
  useEffect(() => setText(filters.q), [filters.q]);
  const apply = (next: Partial<typeof filters>) => navigate('batches', { ...filters, ...next });
  const search = (e: FormEvent) => {
    e.preventDefault();
    apply({ q: text.trim(), owner: owner.trim() });
  };
  const filtered = Object.values(filters).some((v) => v !== '');
  return (
    <section aria-labelledby="batches-title">
      <div className="row between">
        <h2 id="batches-title">{session.admin ? 'All batches' : 'Your batches'}</h2>
        <a className="button" href={href('new')}>
          New batch
        </a>
      </div>
      <form className="filters" onSubmit={search} role="search" aria-label="Filter batches">
        <label>
          Status
          <select value={filters.status} onChange={(e) => apply({ status: e.target.value })}>
            <option value="">any</option>
            {BATCH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_WORDS[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Operation
          <select value={filters.operation} onChange={(e) => apply({ operation: e.target.value })}>
            <option value="">any</option>
            {operations.data?.data.map((o) => (
              <option key={o.name} value={o.name}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search id or metadata
          <input type="search" value={text} maxLength={200} onChange={(e) => setText(e.target.value)} />
        </label>
        {session.admin && (
          <label>
            Owner
            <input
              value={owner}
              maxLength={255}
              placeholder="any user"
              onChange={(e) => setOwner(e.target.value)}
            />
          </label>
        )}
        <button type="submit">Search</button>
        {filtered && (
          <a href={href('batches')} className="clear">
            Clear filters
          </a>
        )}
      </form>
      {page.isError && (
        <p role="alert" className="error">
          {problemOf(page.error)}
        </p>
      )}
      {page.data && page.data.data.length === 0 ? (
        <p className="empty">
          {filtered ? 'No batch matches these filters.' : 'No batches yet.'}{' '}
          <a href={filtered ? href('batches') : href('new')}>
            {filtered ? 'Clear the filters' : 'Submit one'}
          </a>
          .
        </p>
      ) : (
        <div className="table-wrap">
          <table className="batches">
            <caption className="visually-hidden">Batches, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Batch</th>
                <th scope="col">Operation</th>
                {session.admin && <th scope="col">Owner</th>}
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data?.data.map((b) => (
                <BatchRow key={b.id} client={client} listed={b} admin={session.admin} />
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

/** One row, live: the listed state until the socket's snapshot and events take over. */
function BatchRow({ client, listed, admin }: { client: BatchClient; listed: BatchView; admin: boolean }) {
  const live = useBatch(client, listed.id);
  const b = live.batch ?? listed;
  const label = metadataLabel(b.metadata);
  return (
    <tr className="batch" data-status={b.status}>
      <td>
        <a href={href(`batches/${encodeURIComponent(b.id)}`)} className="id">
          {b.id.slice(0, 8)}
        </a>
        {label && <span className="meta">{label}</span>}
      </td>
      <td>{b.operation}</td>
      {admin && <td className="owner">{b.userId}</td>}
      <td>
        <span className={`status ${b.status}`}>{statusWord(b.status)}</span>
      </td>
      <td className="progress">
        <ProgressBar batch={b} label={`Progress of batch ${b.id.slice(0, 8)}`} />
        <Counts batch={b} />
      </td>
      <td>
        <time dateTime={b.createdAt} title={new Date(b.createdAt).toLocaleString()}>
          {timeAgo(b.createdAt)}
        </time>
      </td>
    </tr>
  );
}

/** A short text of a batch's metadata for the list. */
export function metadataLabel(metadata: unknown): string {
  if (metadata === null || typeof metadata !== 'object') return '';
  const text = Object.entries(metadata as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
