import { givenBatch, givenBatchFeatureOn, givenUser, TestUser, waitForBatch } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';
import { until } from '../support/wait';

/** The items of a batch as `GET /batches/:id/items` lists them (every page). */
async function listed(sut: TestApp, user: TestUser, batchId: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let cursor: string | undefined;
  do {
    const res = await sut
      .http()
      .get(`/batches/${batchId}/items`)
      .query({ limit: 100, ...(cursor ? { cursor } : {}) })
      .set(user.auth)
      .expect(200);
    items.push(...res.body.data);
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

async function exported(sut: TestApp, user: TestUser, batchId: string, query: string): Promise<string> {
  return (await sut.http().get(`/batches/${batchId}/items/export?${query}`).set(user.auth).expect(200)).text;
}

/** An item of the list as the NDJSON export writes it. */
const asExported = (i: Record<string, any>) => ({
  seq: i.seq,
  status: i.status,
  attempts: i.attempts,
  error: i.error,
  errorCategory: i.errorCategory,
  retryable: i.retryable,
  payload: i.payload,
  result: i.result,
});

/** One CSV line of the export for an item of the list (JSON cells; quotes doubled when quoted). */
function csvLine(i: Record<string, any>): string {
  const cell = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const json = (value: unknown) => (value === null ? '' : cell(JSON.stringify(value)));
  return [
    i.seq,
    i.status,
    i.attempts,
    i.error === null ? '' : cell(i.error),
    json(i.payload),
    json(i.result),
    i.errorCategory ?? '',
    i.retryable === null ? '' : String(i.retryable),
  ].join(',');
}

describe('GET /batches/:id/items/export: the items as the list shows them (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ RATE_LIMIT_EXPORT: '1000/3600' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  it('writes every field of settled items exactly as the list reads them, JSON text byte for byte', async () => {
    const user = givenUser(sut);
    // Keys in the order PostgreSQL's jsonb keeps them (shorter first), so the text is the same on both back ends.
    const items = [
      { n: 0, s: 'é, "quoted"\nline 🙂 \u2028 tab\t' },
      { n: 1, failPermanently: true },
      { n: 2, deep: { list: [1, 2.5, -3e-7, null, true, 'x'] } },
      { n: 3, failPermanently: true, s: '=SUM(A1)' },
    ];
    const batch = await givenBatch(sut, user, { items, options: { chunkSize: 2 } });
    await waitForBatch(sut, user, batch.id);
    const list = await listed(sut, user, batch.id);
    expect(list.map((i) => i.status)).toEqual(['success', 'failed', 'success', 'failed']);

    const ndjson = (await exported(sut, user, batch.id, 'format=ndjson')).trimEnd().split('\n');
    expect(ndjson.map((line) => JSON.parse(line))).toEqual(list.map(asExported));
    // The payload's JSON text is the submitted item's, serialized as JSON.stringify does.
    expect(ndjson[0]).toContain(`"payload":${JSON.stringify(items[0])}`);

    const csv = await exported(sut, user, batch.id, 'format=csv');
    const lines = list.map(csvLine);
    expect(csv).toBe(
      `seq,status,attempts,error,payload,result,errorCategory,retryable\n${lines.join('\n')}\n`,
    );
    expect(await exported(sut, user, batch.id, 'format=csv&status=failed')).toBe(
      `seq,status,attempts,error,payload,result,errorCategory,retryable\n${[lines[1], lines[3]].join('\n')}\n`,
    );
  });

  it('shows items in flight as processing, their attempt counted, and filters them apart from the queued ones', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: Array.from({ length: 8 }, (_, n) => ({ n, delayMs: 10_000 })),
      options: { chunkSize: 1 },
    });
    await until(
      'an item is processing',
      async () => (await listed(sut, user, batch.id)).some((i) => i.status === 'processing'),
      10_000,
    );
    const list = await listed(sut, user, batch.id);
    const inFlight = list.filter((i) => i.status === 'processing');
    const queued = list.filter((i) => i.status === 'queued');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(queued.length).toBeGreaterThan(0);
    expect(inFlight.every((i) => i.attempts === 1)).toBe(true);

    const parse = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    expect(parse(await exported(sut, user, batch.id, 'format=ndjson'))).toEqual(list.map(asExported));
    expect(parse(await exported(sut, user, batch.id, 'format=ndjson&status=processing'))).toEqual(
      inFlight.map(asExported),
    );
    expect(parse(await exported(sut, user, batch.id, 'format=ndjson&status=queued'))).toEqual(
      queued.map(asExported),
    );
    await sut.http().post(`/batches/${batch.id}/cancel`).set(user.auth).expect(202);
  });
});
