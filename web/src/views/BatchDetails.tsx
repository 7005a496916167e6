import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { BatchClient, BatchView, ItemView, ListItemsQuery } from '../../../client/src/index';
import { useBatch, useBatchItems } from '../../../client/src/react';
import { Confirm, Details } from '../components/Confirm';
import { Pager, toggled, useCursors } from '../components/Pager';
import { Counts, ProgressBar } from '../components/ProgressBar';
import { durationWords, ThroughputChart } from '../components/ThroughputChart';
import { href, navigate, type Route } from '../route';
import type { Session } from '../session';
import { categoryWord, number, problemOf, statusWord, timeAgo } from '../words';
import { metadataLabel } from './Batches';
import { RESUBMIT_KEY } from './NewBatch';

const ITEM_PAGE = 50;
const ITEM_STATUSES = ['queued', 'processing', 'success', 'failed', 'cancelled'];
const FINISHED = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

type Pending = { action: 'cancel' | 'retry-all'; text: string } | null;

/** One batch: live progress, controls, stored throughput, failures by group, and every item. */
export function BatchDetails({
  client,
  id,
  route,
  session,
}: {
  client: BatchClient;
  id: string;
  route: Route;
  session: Session;
}) {
  const live = useBatch(client, id);
  const batch = live.batch;
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [confirm, setConfirm] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);

  if (live.error)
    return (
      <section className="card">
        <h2>Batch {id.slice(0, 8)}</h2>
        <p role="alert" className="error">
          {live.error.code === 'NOT_FOUND'
            ? 'There is no such batch, or it is not yours.'
            : problemOf(live.error)}
        </p>
        <a href={href('batches')}>Back to the batches</a>
      </section>
    );
  if (!batch) return <p aria-busy="true">Loading batch {id.slice(0, 8)}…</p>;

  const refresh = () => void queryClient.invalidateQueries({ predicate: (q) => q.queryKey.includes(id) });
  const act = async (what: string, run: () => Promise<unknown>) => {
    setBusy(true);
    setMessage(null);
    try {
      await run();
      setMessage({ text: what, error: false });
      refresh();
    } catch (error) {
      setMessage({ text: problemOf(error), error: true });
    } finally {
      setBusy(false);
    }
  };
  const can = {
    pause: batch.status === 'pending' || batch.status === 'processing',
    resume: batch.status === 'paused',
    cancel: !FINISHED.includes(batch.status),
    retry: (batch.status === 'completed_with_errors' || batch.status === 'failed') && batch.failedCount > 0,
  };
  const resubmitFailed = async () => {
    const res = await client.exportItems(id, { format: 'csv', status: 'failed' });
    sessionStorage.setItem(
      RESUBMIT_KEY,
      JSON.stringify({ operation: batch.operation, text: await res.text(), from: id }),
    );
    navigate('new');
  };
  const downloadFailed = async () => {
    const res = await client.exportItems(id, { format: 'csv', status: 'failed' });
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement('a'), { href: url, download: `batch-${id}-failed.csv` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <article aria-labelledby="batch-title" className="batch-details" data-status={batch.status}>
      <p>
        <a href={href('batches')}>← Batches</a>
      </p>
      <div className="card">
        <div className="row between wrap">
          <h2 id="batch-title">
            Batch <span className="id">{batch.id}</span>
          </h2>
          <span className={`status ${batch.status}`}>{statusWord(batch.status)}</span>
        </div>
        <dl className="facts">
          <dt>Operation</dt>
          <dd>{batch.operation}</dd>
          {session.admin && (
            <>
              <dt>Owner</dt>
              <dd className="owner">{batch.userId}</dd>
            </>
          )}
          <dt>Created</dt>
          <dd>{new Date(batch.createdAt).toLocaleString()}</dd>
          {batch.finishedAt && (
            <>
              <dt>Took</dt>
              <dd>
                {durationWords(
                  (Date.parse(batch.finishedAt) - Date.parse(batch.startedAt ?? batch.createdAt)) / 1000,
                )}
              </dd>
            </>
          )}
          {metadataLabel(batch.metadata) && (
            <>
              <dt>Metadata</dt>
              <dd>{metadataLabel(batch.metadata)}</dd>
            </>
          )}
        </dl>
        <ProgressBar batch={batch} label={`Progress of batch ${batch.id.slice(0, 8)}`} />
        <p>
          <Counts batch={batch} /> · <span className="percent">{batch.percentage} %</span>
        </p>
        <div className="row wrap actions">
          {[
            { show: can.pause, label: 'Pause', done: 'Paused.', run: () => client.pauseBatch(id) },
            { show: can.resume, label: 'Resume', done: 'Resumed.', run: () => client.resumeBatch(id) },
          ]
            .filter((a) => a.show)
            .map((a) => (
              <button key={a.label} type="button" disabled={busy} onClick={() => void act(a.done, a.run)}>
                {a.label}
              </button>
            ))}
          {can.cancel && (
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() =>
                setConfirm({
                  action: 'cancel',
                  text: `Cancel batch ${id.slice(0, 8)}? Its ${number(batch.itemCount - batch.processedCount - batch.cancelledCount)} unfinished items will not run. A cancelled batch cannot be resumed or retried.`,
                })
              }
            >
              Cancel batch
            </button>
          )}
          {can.retry && (
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                setConfirm({
                  action: 'retry-all',
                  text: `Queue all ${number(batch.failedCount)} failed items again?`,
                })
              }
            >
              Retry all failed
            </button>
          )}
          {batch.failedCount > 0 && FINISHED.includes(batch.status) && (
            <>
              <button type="button" onClick={() => void act('Downloaded the failed items.', downloadFailed)}>
                Download failed (CSV)
              </button>
              <button type="button" onClick={() => void act('', resubmitFailed)}>
                Fix and resubmit failed…
              </button>
            </>
          )}
        </div>
        <p role="status" className={message?.error ? 'error' : 'quiet'}>
          {message?.text}
        </p>
      </div>
      <Confirm
        open={confirm !== null}
        title={confirm?.action === 'cancel' ? 'Cancel this batch?' : 'Retry failed items?'}
        yes={confirm?.action === 'cancel' ? 'Cancel batch' : 'Retry'}
        onNo={() => setConfirm(null)}
        onYes={() => {
          const action = confirm?.action;
          setConfirm(null);
          if (action === 'cancel') void act('Cancelled.', () => client.cancelBatch(id));
          if (action === 'retry-all') void act('Failed items queued again.', () => client.retryBatch(id, {}));
        }}
      >
        <p>{confirm?.text}</p>
      </Confirm>
      <Throughput client={client} batch={batch} />
      {batch.failedCount > 0 && (
        <FailureGroups client={client} batch={batch} canRetry={can.retry} act={act} />
      )}
      <Items client={client} batch={batch} route={route} canRetry={can.retry} act={act} />
    </article>
  );
}

/** Stored history, fetched again as the batch moves (at most every 2 s) and once it ends. */
function Throughput({ client, batch }: { client: BatchClient; batch: BatchView }) {
  const finished = FINISHED.includes(batch.status);
  const history = useQuery({
    queryKey: ['throughput', batch.id, finished],
    queryFn: () => client.batchThroughput(batch.id, { buckets: 60 }),
    // Each read scans the batch's items (~45 ms at 100k on SQLite): every 5 s while it runs is enough for a chart.
    refetchInterval: finished ? false : 5000,
  });
  const data = history.data;
  const settled = data?.buckets.reduce((s, b) => s + b.succeeded + b.failed, 0) ?? 0;
  // The rate of the last whole bucket (never negative, whatever a retry did to the counts).
  const buckets = data?.buckets ?? [];
  const last = buckets.length > 1 && !finished ? buckets[buckets.length - 2] : buckets[buckets.length - 1];
  const rate = last && data ? (last.succeeded + last.failed) / (data.bucketMs / 1000) : 0;
  const remaining = batch.itemCount - batch.processedCount - batch.cancelledCount;
  return (
    <section aria-labelledby="throughput-title" className="card">
      <h3 id="throughput-title">Throughput</h3>
      {data && settled > 0 ? (
        <>
          <p className="rate">
            {finished
              ? `${number(settled)} items in ${durationWords((Date.parse(data.to) - Date.parse(data.from)) / 1000)}, ${number(Math.round((settled * 1000) / Math.max(1, Date.parse(data.to) - Date.parse(data.from))))} items/s on average.`
              : `${number(Math.round(rate))} items/s now${rate > 0 && remaining > 0 ? `, about ${durationWords(remaining / rate)} left` : ''}.`}
          </p>
          <ThroughputChart history={data} />
        </>
      ) : (
        <p className="empty">{history.isError ? problemOf(history.error) : 'No item has settled yet.'}</p>
      )}
    </section>
  );
}

function FailureGroups({
  client,
  batch,
  canRetry,
  act,
}: {
  client: BatchClient;
  batch: BatchView;
  canRetry: boolean;
  act: (what: string, run: () => Promise<unknown>) => Promise<void>;
}) {
  const groups = useQuery({
    queryKey: ['failures', batch.id, batch.failedCount, batch.status],
    queryFn: () => client.failureGroups(batch.id),
  });
  return (
    <section aria-labelledby="failures-title" className="card">
      <h3 id="failures-title">Failures by cause</h3>
      {groups.isError && <p className="error">{problemOf(groups.error)}</p>}
      <div className="table-wrap">
        <table className="failures">
          <caption className="visually-hidden">Failed items grouped by error</caption>
          <thead>
            <tr>
              <th scope="col">Items</th>
              <th scope="col">Kind</th>
              <th scope="col">Error</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {groups.data?.data.map((g) => (
              <tr key={`${g.errorCategory}|${g.error}`}>
                <td className="num">{number(g.count)}</td>
                <td>
                  {categoryWord(g.errorCategory) || '—'}
                  {!g.retryable && <span className="hint"> (retrying will not help)</span>}
                </td>
                <td className="error-text">{g.error ?? '—'}</td>
                <td>
                  {canRetry && (
                    <button
                      type="button"
                      onClick={() =>
                        void act(`${number(g.count)} items queued again.`, () =>
                          client.retryBatch(batch.id, {
                            group: { error: g.error, errorCategory: g.errorCategory },
                          }),
                        )
                      }
                    >
                      Retry these {number(g.count)}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Items({
  client,
  batch,
  route,
  canRetry,
  act,
}: {
  client: BatchClient;
  batch: BatchView;
  route: Route;
  canRetry: boolean;
  act: (what: string, run: () => Promise<unknown>) => Promise<void>;
}) {
  // The filter is part of this batch's URL: another batch starts unfiltered.
  const status = route.params.get('status') ?? '';
  const pages = useCursors(status);
  const query: ListItemsQuery = {
    limit: ITEM_PAGE,
    cursor: pages.cursor,
    status: (status || undefined) as ListItemsQuery['status'],
  };
  const items = useBatchItems(client, batch.id, query, 1000);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<ItemView | null>(null);
  const failedCount = useRef(batch.failedCount);
  useEffect(() => {
    if (failedCount.current !== batch.failedCount) setSelected(new Set());
    failedCount.current = batch.failedCount;
  }, [batch.failedCount]);
  const rows = items.data?.data ?? [];
  const toggle = (itemId: string) => setSelected(toggled(selected, itemId));
  return (
    <section aria-labelledby="items-title" className="card">
      <div className="row between wrap">
        <h3 id="items-title">Items</h3>
        <label>
          Show{' '}
          <select
            value={status}
            onChange={(e) => navigate(`batches/${encodeURIComponent(batch.id)}`, { status: e.target.value })}
          >
            <option value="">all</option>
            {ITEM_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusWord(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {canRetry && selected.size > 0 && (
        <p className="row">
          <button
            type="button"
            onClick={() =>
              void act(`${number(selected.size)} items queued again.`, () =>
                client.retryBatch(batch.id, { itemIds: [...selected] }),
              )
            }
          >
            Retry {number(selected.size)} selected
          </button>
          <button type="button" className="link" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </p>
      )}
      {items.isError && <p className="error">{problemOf(items.error)}</p>}
      {rows.length === 0 && items.isSuccess ? (
        <p className="empty">
          {status ? `No ${statusWord(status)} items in this batch. ` : 'No items. '}
          {status && <a href={href(`batches/${encodeURIComponent(batch.id)}`)}>Show all items</a>}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="items">
            <caption className="visually-hidden">Items of the batch by position</caption>
            <thead>
              <tr>
                {canRetry && (
                  <th scope="col">
                    <span className="visually-hidden">Select</span>
                  </th>
                )}
                <th scope="col">#</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Stage</th>
                <th scope="col">Kind</th>
                <th scope="col">Error or result</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((item) => (
                <tr key={item.id} data-status={item.status}>
                  {canRetry && (
                    <td>
                      {item.status === 'failed' && (
                        <input
                          type="checkbox"
                          aria-label={`Select item ${item.seq}`}
                          checked={selected.has(item.id)}
                          onChange={() => toggle(item.id)}
                        />
                      )}
                    </td>
                  )}
                  <td className="num" data-label="#">
                    {item.seq}
                  </td>
                  <td>
                    <span className={`status ${item.status}`}>{statusWord(item.status)}</span>
                  </td>
                  <td className="num" data-label="attempts">
                    {item.attempts}
                  </td>
                  <td className="stage">{item.stage ? `${item.stage} (${item.progress} %)` : ''}</td>
                  <td className="kind">{categoryWord(item.errorCategory)}</td>
                  <td className="error-text">{item.error ?? short(item.result)}</td>
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => setShown(item)}
                      aria-label={`Details of item ${item.seq}`}
                    >
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={items.data?.nextCursor} back="Previous" forward="Next">
        Items {pages.index * ITEM_PAGE}–{pages.index * ITEM_PAGE + Math.max(0, rows.length - 1)}
      </Pager>
      {shown && <ItemDetails item={shown} onClose={() => setShown(null)} />}
    </section>
  );
}

function ItemDetails({ item, onClose }: { item: ItemView; onClose: () => void }) {
  return (
    <Details title={`Item ${item.seq}`} onClose={onClose}>
      <dl className="facts">
        <dt>Id</dt>
        <dd className="id">{item.id}</dd>
        <dt>Status</dt>
        <dd>{statusWord(item.status)}</dd>
        <dt>Attempts</dt>
        <dd>{item.attempts}</dd>
        {item.nextAttemptAt && (
          <>
            <dt>Next attempt</dt>
            <dd>{new Date(item.nextAttemptAt).toLocaleTimeString()}</dd>
          </>
        )}
        {item.errorCategory && (
          <>
            <dt>Kind of failure</dt>
            <dd>
              {categoryWord(item.errorCategory)} (
              {item.retryable ? 'retrying may help' : 'retrying will not help'})
            </dd>
          </>
        )}
        <dt>Updated</dt>
        <dd>{timeAgo(item.updatedAt)}</dd>
      </dl>
      {item.error && (
        <>
          <h3>Error</h3>
          <pre className="error-text">{item.error}</pre>
        </>
      )}
      <h3>Payload</h3>
      <pre>{JSON.stringify(item.payload, null, 2)}</pre>
      {item.result !== null && item.result !== undefined && (
        <>
          <h3>Result</h3>
          <pre>{JSON.stringify(item.result, null, 2)}</pre>
        </>
      )}
    </Details>
  );
}

function short(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}
