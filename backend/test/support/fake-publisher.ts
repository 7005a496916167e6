import http from 'node:http';
import type { AddressInfo } from 'node:net';
import PDFDocument from 'pdfkit';

/** A small real PDF with `sentence` on each of its pages, made in memory. */
export function makePdf(sentence: string, pages = 2): Promise<Buffer> {
  return new Promise((resolve) => {
    const doc = new PDFDocument();
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    for (let i = 0; i < pages; i++) {
      if (i > 0) doc.addPage();
      doc.text(`${sentence} Page ${i + 1}.`);
    }
    doc.end();
  });
}

export interface PublisherRequest {
  path: string;
  /** Epoch ms the request arrived. */
  at: number;
  status: number;
}

/**
 * A fake publisher on 127.0.0.1 serving DOIs under /10.9999/: `ok-<n>` (a PDF with
 * "Sentence of paper <n>.", after `delayMs`), `missing` 404, `paywall` 403, `html` (a web
 * page), `broken` (not a PDF), `limited` (429 with Retry-After: 2 the first time, then a
 * PDF), `unavailable` (503 the first time, then a PDF), `redirect` (two hops to ok-redirected), `slow-<n>` (a body trickling a byte every 100 ms, or
 * a PDF at once after `setTrickle(false)`). It records every request and the most
 * connections it ever had open at once.
 */
/**
 * `openAccess` makes it an Unpaywall-style resolver too, under `/oa/<doi>?email=…`: a DOI
 * listed there answers `{ best_oa_location: { url_for_pdf } }` (the value, with `{self}`
 * replaced by this server's origin; `GARBAGE` answers a body that is not JSON, `BUSY` a
 * 503); any other DOI 404. `/oa-files/<name>.pdf` serves a PDF.
 */
export async function startFakePublisher(delayMs = 150, openAccess: Record<string, string> = {}) {
  const requests: PublisherRequest[] = [];
  let open = 0;
  let maxOpen = 0;
  let limitedSeen = 0;
  let unavailableSeen = 0;
  const state = { trickle: true };
  const server = http.createServer((req, res) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    res.once('close', () => (open -= 1));
    const path = decodeURIComponent(req.url ?? '/');
    // When the request arrived (not when it was answered: PDFs are answered after `delayMs`).
    const arrivedAt = Date.now();
    const reply = (
      status: number,
      type: string,
      body: string | Buffer,
      headers: Record<string, string> = {},
    ) => {
      requests.push({ path, at: arrivedAt, status });
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': String(Buffer.byteLength(body)),
        ...headers,
      });
      res.end(body);
    };
    const pdf = (name: string) =>
      setTimeout(
        () => void makePdf(`Sentence of paper ${name}.`).then((b) => reply(200, 'application/pdf', b)),
        delayMs,
      );
    if (path.startsWith('/oa/')) {
      const asked = path.slice('/oa/'.length).replace(/\?.*$/, '');
      const answer = openAccess[asked];
      if (answer === undefined) return reply(404, 'application/json', '{"message":"not found"}');
      if (answer === 'GARBAGE') return reply(200, 'application/json', '<html>not json');
      if (answer === 'BUSY') return reply(503, 'application/json', '{"message":"busy"}');
      const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return reply(
        200,
        'application/json',
        JSON.stringify({
          doi: asked,
          is_oa: true,
          best_oa_location: { url_for_pdf: answer.replace('{self}', self) },
        }),
      );
    }
    if (path.startsWith('/oa-files/')) return pdf(`open access ${path.slice('/oa-files/'.length)}`);
    const doi = path.replace(/^\/10\.9999\//, '');
    if (doi.startsWith('ok-')) return pdf(doi.slice(3));
    if (doi.startsWith('slow-')) {
      if (!state.trickle) return pdf(doi);
      // Trickles a PDF-sized body a byte every 100 ms: an aborted download closes the connection.
      requests.push({ path, at: arrivedAt, status: 200 });
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': '1000' });
      const timer = setInterval(() => res.write('%'), 100);
      res.once('close', () => clearInterval(timer));
      return;
    }
    if (doi === 'missing') return reply(404, 'text/plain', 'not found');
    if (doi === 'paywall') return reply(403, 'text/plain', 'subscribe first');
    if (doi === 'unavailable') {
      unavailableSeen += 1;
      return unavailableSeen === 1 ? reply(503, 'text/plain', 'try later') : pdf('unavailable');
    }
    if (doi === 'down') return reply(503, 'text/plain', 'down for good');
    if (doi === 'html') return reply(200, 'text/html', '<html><body>Landing page</body></html>');
    if (doi === 'broken') return reply(200, 'application/pdf', 'this is not a pdf at all');
    if (doi === 'limited') {
      limitedSeen += 1;
      return limitedSeen === 1
        ? reply(429, 'text/plain', 'slow down', { 'Retry-After': '2' })
        : pdf('limited');
    }
    if (doi === 'redirect') return reply(302, 'text/plain', '', { Location: '/hop-2' });
    if (path === '/hop-2') return reply(301, 'text/plain', '', { Location: '/10.9999/ok-redirected' });
    return reply(404, 'text/plain', 'unknown');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    /** For FULLTEXT_ALLOW_HOSTS: the one loopback address and port the service may fetch from. */
    host: `127.0.0.1:${port}`,
    requests,
    maxOpen: () => maxOpen,
    open: () => open,
    /** Slow DOIs trickle while true, answer at once when false. */
    setTrickle: (on: boolean) => (state.trickle = on),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
