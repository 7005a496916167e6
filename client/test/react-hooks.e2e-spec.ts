import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement, type ReactElement } from 'react';
import { act, create, type ReactTestRenderer } from 'react-test-renderer';
import { BatchClient, type BatchView } from '../src/index';
import { useBatch, useBatchItems, useBatches, useCreateBatch } from '../src/react';
import { givenBatchFeatureOn } from '../../backend/test/support/factories';
import { givenApp, TestApp } from '../../backend/test/support/test-app';
import { until } from '../../backend/test/support/wait';

// Updates arrive from the socket, outside act(): the test waits for what is rendered instead.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

/** The React hooks over a real server: what a component renders as a batch runs, and a double submit. */
describe('@nest-batch-ops/client/react', () => {
  let sut: TestApp;
  let client: BatchClient;
  let renderer: ReactTestRenderer | null = null;

  beforeAll(async () => {
    sut = await givenApp({ PROGRESS_INTERVAL_MS: '50' });
    await givenBatchFeatureOn(sut);
    client = new BatchClient({ baseUrl: sut.baseUrl, token: sut.tokenFor('hooks-user') });
  });
  afterAll(async () => {
    await act(async () => renderer?.unmount());
    client.close();
    await sut.close();
  });

  const mount = async (element: ReactElement) => {
    const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    await act(async () => {
      renderer = create(createElement(QueryClientProvider, { client: queries }, element));
    });
  };

  it('renders a batch live to its end, its items, and the list; a double submit creates one batch', async () => {
    const created: BatchView[] = [];
    let submit: (() => Promise<void>) | null = null;
    const frames: { processed: number; connection: string; items: number; listed: number }[] = [];
    let batchId: string | null = null;

    function Probe(props: { id: string | null }) {
      const live = useBatch(client, props.id);
      const items = useBatchItems(client, props.id, { limit: 100 }, 100);
      const list = useBatches(client);
      const create = useCreateBatch(client);
      submit = async () => {
        const body = {
          operation: 'diagnostics.echo',
          items: Array.from({ length: 40 }, (_, i) => ({ n: i, delayMs: 10 })),
          options: { chunkSize: 4 },
        };
        // A double click: the same Idempotency-Key both times.
        const [a, b] = await Promise.all([create.mutateAsync(body), create.mutateAsync(body)]);
        created.push(a, b);
      };
      frames.push({
        processed: live.batch?.processedCount ?? -1,
        connection: live.connection.state,
        items: props.id ? (items.data?.data.length ?? 0) : 0,
        listed: list.batches.length,
      });
      return createElement(
        'p',
        null,
        live.batch ? `${live.batch.processedCount} / ${live.batch.itemCount}` : '…',
      );
    }

    await mount(createElement(Probe, { id: null }));
    await act(async () => submit?.());
    expect(created[0].id).toBe(created[1].id);
    batchId = created[0].id;
    await act(async () =>
      renderer?.update(
        createElement(
          QueryClientProvider,
          { client: new QueryClient() },
          createElement(Probe, { id: batchId }),
        ),
      ),
    );
    await until(
      'the component shows the end',
      async () => {
        await act(async () => new Promise((r) => setTimeout(r, 50)));
        return JSON.stringify(renderer?.toJSON()).includes('40 / 40');
      },
      30_000,
    );
    await until(
      'the items page and the list caught up',
      async () => {
        await act(async () => new Promise((r) => setTimeout(r, 100)));
        const last = frames.at(-1);
        return !!last && last.items === 40 && last.listed >= 1;
      },
      30_000,
    );
    const shown = frames.map((f) => f.processed).filter((p) => p >= 0);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(frames.at(-1)?.connection).toBe('live');
    // One batch in all, though the form was sent twice.
    expect((await client.listBatches()).data.filter((b) => b.operation === 'diagnostics.echo')).toHaveLength(
      1,
    );
  });

  it('fetches the items page once more after the batch’s last move, however soon it came after a refresh', async () => {
    const batch = await client.createBatch({
      operation: 'diagnostics.echo',
      items: Array.from({ length: 10 }, (_, n) => ({ n, delayMs: 100 })),
      options: { chunkSize: 1 },
    });
    let succeeded = 0;
    function Items() {
      // A long refresh interval: every move after the first falls inside it.
      const items = useBatchItems(client, batch.id, { limit: 100, status: 'success' }, 3000);
      succeeded = items.data?.data.length ?? 0;
      return null;
    }
    await act(async () => renderer?.unmount());
    await mount(createElement(Items));
    await until(
      'the page shows every item succeeded',
      async () => {
        await act(async () => new Promise((r) => setTimeout(r, 100)));
        return succeeded === 10;
      },
      20_000,
    );
  });
});
