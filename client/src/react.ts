/**
 * React hooks over BatchClient, in the style of a react-query app: live state through
 * useSyncExternalStore (one socket per client, shared by every hook), lists and writes
 * through @tanstack/react-query. Peer dependencies: react ≥ 18, @tanstack/react-query 5.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import type { BatchClient } from './index.js';
import type { BatchView, CreateBatchBody, ListItemsQuery } from './generated/api-types.js';
import type { BatchesWatchState, BatchWatchState } from './live.js';

const NO_BATCH: BatchWatchState = {
  batch: null,
  seq: -1,
  connection: { state: 'connecting', staleSince: null },
  error: null,
};

/** One batch, live (null id: nothing). */
export function useBatch(client: BatchClient, id: string | null): BatchWatchState {
  const last = useRef<BatchWatchState>(NO_BATCH);
  const subscribe = useCallback(
    (onChange: () => void) =>
      id
        ? client.watchBatch(id, (state) => {
            last.current = state;
            onChange();
          })
        : () => undefined,
    [client, id],
  );
  return useSyncExternalStore(
    subscribe,
    () => (id ? last.current : NO_BATCH),
    () => NO_BATCH,
  );
}

/** The caller's batches, live (newest first). */
export function useBatches(client: BatchClient): BatchesWatchState {
  const last = useRef<BatchesWatchState>(client.batchesState());
  const subscribe = useCallback(
    (onChange: () => void) =>
      client.watchBatches((state) => {
        last.current = state;
        onChange();
      }),
    [client],
  );
  return useSyncExternalStore(
    subscribe,
    () => last.current,
    () => last.current,
  );
}

/** A page of a batch's items (null id: none); fetched again when the batch moves (at most once per `refreshMs`, and after its last move). */
export function useBatchItems(
  client: BatchClient,
  id: string | null,
  query: ListItemsQuery = {},
  refreshMs = 1000,
) {
  const live = useBatch(client, id);
  const queryClient = useQueryClient();
  const key = ['batch-items', id, query] as const;
  const lastRefresh = useRef(0);
  useEffect(() => {
    if (!id || live.seq < 0) return;
    const refresh = () => {
      lastRefresh.current = Date.now();
      void queryClient.invalidateQueries({ queryKey: ['batch-items', id] });
    };
    // At most once per refreshMs, and always once after the last move (the final state is never missed).
    const wait = lastRefresh.current + refreshMs - Date.now();
    if (wait <= 0) return refresh();
    const timer = setTimeout(refresh, wait);
    return () => clearTimeout(timer);
  }, [live.seq, id, refreshMs, queryClient]);
  return useQuery({
    queryKey: key,
    queryFn: () => client.listItems(id as string, query),
    enabled: id !== null,
  });
}

/**
 * Creates a batch with an Idempotency-Key that stays the same until a create succeeds, so
 * a double click or a retry after a timeout never creates two batches.
 */
export function useCreateBatch(client: BatchClient) {
  const key = useRef<string>(newKey());
  const queryClient = useQueryClient();
  return useMutation<BatchView, Error, CreateBatchBody>({
    mutationFn: (body) => client.createBatch(body, { idempotencyKey: key.current }),
    onSuccess: () => {
      key.current = newKey();
      void queryClient.invalidateQueries({ queryKey: ['batches'] });
    },
  });
}

function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
