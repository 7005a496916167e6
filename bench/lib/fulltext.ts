import { startFakePublisher } from '../../backend/test/support/fake-publisher';
import { connectSocket, request, startServer, tokenFor } from './harness';

export interface FulltextRun {
  concurrency: number;
  itemsPerSecond: number;
  bareItemsPerSecond: number;
  /** Extra ms per item over a bare fetch of the same PDFs at the same concurrency (extraction and storage included). */
  overheadMsPerItem: number;
}

/** papers.fetch-fulltext against the fake publisher (each PDF answered after `delayMs`), and a bare fetch of the same PDFs. */
export async function fulltextThroughput(concurrency: number, n: number, delayMs = 20): Promise<FulltextRun> {
  const publisher = await startFakePublisher(delayMs);
  const server = await startServer({
    FULLTEXT_BASE_URL: publisher.baseUrl,
    FULLTEXT_ALLOW_HOSTS: publisher.host,
    FULLTEXT_CONCURRENCY: String(concurrency),
    FULLTEXT_RATE: '1000000/60',
    // One fake host: its own limits as wide as the operation's (this row measures the engine's overhead).
    FULLTEXT_PER_HOST_CONCURRENCY: String(concurrency),
    FULLTEXT_PER_HOST_RATE: '1000000/60',
  });
  try {
    const token = tokenFor('bench-fulltext');
    const run = (body: object) => runToCompletion(server.baseUrl, token, body);
    const ids = await importPapers(
      server.baseUrl,
      token,
      Array.from({ length: n }, (_, i) => `10.9999/ok-${i}`),
    );
    const ms = await run({
      operation: 'papers.fetch-fulltext',
      items: ids.map((paperId) => ({ paperId })),
      options: { chunkSize: 100 },
    });
    const bareStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          await (await fetch(`${publisher.baseUrl}10.9999/ok-${i}`)).arrayBuffer();
        }
      }),
    );
    const bareMs = performance.now() - bareStarted;
    return {
      concurrency,
      itemsPerSecond: (n / ms) * 1000,
      bareItemsPerSecond: (n / bareMs) * 1000,
      overheadMsPerItem: (ms - bareMs) / n,
    };
  } finally {
    await server.close();
    await publisher.close();
  }
}

/** Posts a batch and resolves, with the ms it took, when its `batch-complete` arrives. */
export async function runToCompletion(baseUrl: string, token: string, body: object): Promise<number> {
  const socket = await connectSocket(baseUrl, token);
  try {
    const done = new Promise((resolve) => socket.on('batch-complete', resolve));
    const started = performance.now();
    const res = await request(baseUrl, 'POST', '/batches', token, body);
    if (res.status !== 202) throw new Error(`POST /batches: ${res.status}`);
    await done;
    return performance.now() - started;
  } finally {
    socket.close();
  }
}

/** Imports one paper per DOI (papers.import) and returns their ids, in DOI order. */
export async function importPapers(baseUrl: string, token: string, dois: string[]): Promise<string[]> {
  await runToCompletion(baseUrl, token, {
    operation: 'papers.import',
    items: dois.map((doi, i) => ({ title: `F ${i}`, doi })),
  });
  const byDoi = new Map<string, string>();
  let cursor: string | null = '';
  while (cursor !== null) {
    const page = (
      await request(baseUrl, 'GET', `/papers?limit=100${cursor ? `&cursor=${cursor}` : ''}`, token)
    ).body as { data: { id: string; doi: string }[]; nextCursor: string | null };
    for (const p of page.data) byDoi.set(p.doi, p.id);
    cursor = page.nextCursor;
  }
  return dois.map((doi) => byDoi.get(doi) as string);
}
