import { startFakePublisher } from '../../backend/test/support/fake-publisher';
import { startServer, tokenFor } from './harness';
import { importPapers, runToCompletion } from './fulltext';

export interface PublishersRun {
  papers: number;
  /** Downloads per second each publisher allows (FULLTEXT_HOST_POLICIES). */
  rates: number[];
  wallMs: number;
  /** What the slowest publisher's own limit allows for its share: its papers ÷ its rate. */
  boundMs: number;
  /** When each publisher served its last PDF, ms after the batch was posted. */
  lastDownloadMs: number[];
}

/**
 * papers.fetch-fulltext over three publishers limited to `rates` downloads per second,
 * `n` papers dealt round-robin, found through an open-access resolver (unlimited). The
 * wall time should be what the slowest publisher's limit allows: the others finish their
 * share at their own pace meanwhile (no head-of-line blocking).
 */
export async function publishersThroughput(n: number, rates = [10, 5, 2]): Promise<PublishersRun> {
  const publishers = await Promise.all(rates.map(() => startFakePublisher(20)));
  const dois = Array.from({ length: n }, (_, i) => `10.9999/pub-${i}`);
  const openAccess = Object.fromEntries(
    dois.map((doi, i) => [doi, `${publishers[i % rates.length].baseUrl}10.9999/ok-${i}`]),
  );
  const resolver = await startFakePublisher(0, openAccess);
  const policies = Object.fromEntries([
    [resolver.host, { concurrency: 64, rate: '1000000/60' }],
    ...publishers.map((p, k) => [p.host, { concurrency: 8, rate: `${rates[k]}/1` }]),
  ]);
  const server = await startServer({
    FULLTEXT_BASE_URL: resolver.baseUrl,
    FULLTEXT_RESOLVER_URL: `${resolver.baseUrl}oa/`,
    FULLTEXT_CONTACT_EMAIL: 'bench@example.org',
    FULLTEXT_ALLOW_HOSTS: [resolver, ...publishers].map((p) => p.host).join(','),
    FULLTEXT_CONCURRENCY: '32',
    FULLTEXT_RATE: '1000000/60',
    FULLTEXT_HOST_POLICIES: JSON.stringify(policies),
  });
  try {
    const token = tokenFor('bench-publishers');
    const ids = await importPapers(server.baseUrl, token, dois);
    const before = publishers.map((p) => p.requests.length);
    const started = Date.now();
    const wallMs = await runToCompletion(server.baseUrl, token, {
      operation: 'papers.fetch-fulltext',
      items: ids.map((paperId) => ({ paperId })),
    });
    const lastDownloadMs = publishers.map((p, k) => {
      const served = p.requests.slice(before[k]).filter((r) => r.status === 200);
      if (served.length !== Math.ceil((n - k) / rates.length))
        throw new Error(`publisher ${k + 1} served ${served.length} PDFs`);
      return Math.max(...served.map((r) => r.at)) - started;
    });
    const boundMs = Math.max(...rates.map((rate, k) => (Math.ceil((n - k) / rates.length) / rate) * 1000));
    return { papers: n, rates, wallMs, boundMs, lastDownloadMs };
  } finally {
    await server.close();
    await Promise.all([resolver, ...publishers].map((p) => p.close()));
  }
}
