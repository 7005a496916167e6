import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import PDFDocument from 'pdfkit';
import { makePdf } from './fake-publisher';

/** A real PDF with `pages` pages of text, made in memory (2,000 pages take a few seconds). */
export function makeLongPdf(pages: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const doc = new PDFDocument({ compress: true });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    for (let i = 0; i < pages; i++) {
      if (i > 0) doc.addPage();
      doc.text(`Page ${i + 1}. `.repeat(40));
    }
    doc.end();
  });
}

/**
 * A small PDF whose one compressed content stream holds a 64 MiB string: ~64 KB on the
 * wire, a decompression bomb for whoever parses it.
 */
export function makeBombPdf(stringBytes = 64 * 1024 * 1024): Buffer {
  const content = Buffer.concat([
    Buffer.from('BT /F1 12 Tf 72 712 Td ('),
    Buffer.alloc(stringBytes, 0x41),
    Buffer.from(') Tj ET'),
  ]);
  const stream = zlib.deflateSync(content, { level: 9 });
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    Buffer.concat([
      Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
      stream,
      Buffer.from('\nendstream'),
    ]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0].length;
  objects.forEach((body, i) => {
    offsets.push(length);
    const part = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(part);
    length += part.length;
  });
  const xref = [
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`,
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`),
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
  ].join('');
  parts.push(Buffer.from(xref));
  return Buffer.concat(parts);
}

const listen = (server: http.Server, host: string) =>
  new Promise<number>((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );

/**
 * The outside world of a full-text fetch, all on loopback: a publisher under `/pub/`
 * (exempt through FULLTEXT_ALLOW_HOSTS), an "internal" service on every address that must
 * never be reached, and a rate limiter that answers every request with
 * `429 Retry-After: 999999999`. Publisher DOIs (under 10.5555/): `ok-<n>`, `long-<n>` (a
 * 2,000-page PDF), `bomb`, `slow-<n>` (trickles forever), `to-<k>` (a redirect from
 * `redirects[k]`, PORT standing for the internal service's port), `chain` (two hops,
 * then the internal service), `bounce` (to the rate limiter). Every request's raw path is
 * recorded.
 */
export async function startHostileWorld(options: { longPages?: number } = {}) {
  let internalHits = 0;
  const internal = http.createServer((_req, res) => {
    internalHits += 1;
    res.writeHead(200, { 'Content-Type': 'application/pdf' });
    void makePdf('Internal secret.').then((pdf) => res.end(pdf));
  });
  const internalPort = await listen(internal, '::');

  const limiter = http.createServer((_req, res) => {
    res.writeHead(429, { 'Retry-After': '999999999', 'Content-Type': 'text/plain' });
    res.end('slow down');
  });
  const limiterPort = await listen(limiter, '127.0.0.1');

  const redirects: [number, string][] = [
    [302, 'http://127.0.0.1:PORT/secret'],
    [302, 'http://localhost:PORT/secret'],
    [302, 'http://127.0.0.2:PORT/secret'],
    [302, 'http://0.0.0.0:PORT/secret'],
    [302, 'http://2130706433:PORT/secret'],
    [302, 'http://0x7f.1:PORT/secret'],
    [302, 'http://[::ffff:127.0.0.1]:PORT/secret'],
    [302, 'http://[::1]:PORT/secret'],
    [302, '//127.0.0.1:PORT/secret'],
    [307, 'http://127.0.0.1:PORT/secret'],
    [308, 'http://localhost:PORT/secret'],
    [301, 'http://169.254.169.254/latest/meta-data/'],
  ];
  const requests: string[] = [];
  const longPdf = makeLongPdf(options.longPages ?? 2000);
  const bomb = makeBombPdf();
  const publisher = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    requests.push(raw);
    const redirect = (status: number, location: string) => {
      res.writeHead(status, { Location: location.replace('PORT', String(internalPort)) });
      res.end();
    };
    const pdf = (body: Buffer) => {
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': String(body.length) });
      res.end(body);
    };
    const doi = raw.startsWith('/pub/10.5555/') ? raw.slice('/pub/10.5555/'.length) : null;
    if (doi?.startsWith('ok-')) return void makePdf(`Sentence of ${doi}.`).then(pdf);
    if (doi?.startsWith('long-')) return void longPdf.then(pdf);
    if (doi === 'bomb') return pdf(bomb);
    if (doi?.startsWith('to-')) {
      const [status, location] = redirects[Number(doi.slice(3))];
      return redirect(status, location);
    }
    if (doi === 'chain') return redirect(302, '/pub/hop-1');
    if (raw === '/pub/hop-1') return redirect(303, '/pub/hop-2');
    if (raw === '/pub/hop-2') return redirect(302, 'http://localhost:PORT/secret');
    if (doi === 'bounce') return redirect(302, `http://127.0.0.1:${limiterPort}/pdf`);
    if (doi?.startsWith('slow-')) {
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': '100000' });
      const timer = setInterval(() => res.write('%'), 100);
      res.once('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not here');
  });
  const publisherPort = await listen(publisher, '127.0.0.1');
  const close = (server: http.Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  await longPdf;
  return {
    baseUrl: `http://127.0.0.1:${publisherPort}/pub/`,
    /** FULLTEXT_ALLOW_HOSTS: the publisher and the rate limiter, nothing else on loopback. */
    allowHosts: `127.0.0.1:${publisherPort},127.0.0.1:${limiterPort}`,
    /** FULLTEXT_ALLOWED_PORTS: the internal port is allowed, so only the address check stands in the way. */
    allowedPorts: `80,443,${internalPort}`,
    limiterHost: `127.0.0.1:${limiterPort}`,
    redirects,
    requests,
    internalHits: () => internalHits,
    close: async () => {
      await Promise.all([close(publisher), close(internal), close(limiter)]);
    },
  };
}
