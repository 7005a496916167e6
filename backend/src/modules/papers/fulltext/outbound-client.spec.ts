import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboundClient, TooManyRedirectsError } from './outbound-client';
import { BlockedAddressError, parseAllowHosts } from './outbound-policy';

/** Real loopback servers: an exempt "publisher" and an "internal" service that must never be reached. */
describe(OutboundClient.name, () => {
  let publisher: http.Server;
  let internal: http.Server;
  let internalHits = 0;
  let pubPort = 0;
  let internalPort = 0;
  const listen = (server: http.Server, host: string) =>
    new Promise<number>((resolve) =>
      server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
    );

  beforeAll(async () => {
    internal = http.createServer((_req, res) => {
      internalHits += 1;
      res.end('internal secret');
    });
    internalPort = await listen(internal, '::');
    publisher = http.createServer((req, res) => {
      const target = decodeURIComponent((req.url ?? '').replace(/^\/to\//, ''));
      if (req.url?.startsWith('/to/')) {
        res.writeHead(302, { Location: target.replace('PORT', String(internalPort)) });
        return res.end();
      }
      if (req.url === '/loop') {
        res.writeHead(302, { Location: '/loop' });
        return res.end();
      }
      res.end(`path ${req.url}`);
    });
    pubPort = await listen(publisher, '127.0.0.1');
  });
  afterAll(async () => {
    await new Promise((r) => publisher.close(r));
    await new Promise((r) => internal.close(r));
  });

  const sut = () =>
    new OutboundClient({
      allowedPorts: new Set([80, 443, internalPort]),
      allowHosts: parseAllowHosts(`127.0.0.1:${pubPort}`),
    });
  const get = (path: string) =>
    sut().get(
      { url: new URL(`http://127.0.0.1:${pubPort}${path}`), rawPath: path },
      { signal: AbortSignal.timeout(5000), maxRedirects: 5 },
    );

  it.each([
    'http://127.0.0.1:PORT/secret',
    'http://localhost:PORT/secret',
    'http://127.0.0.2:PORT/secret',
    'http://0.0.0.0:PORT/secret',
    'http://2130706433:PORT/secret',
    'http://0x7f.1:PORT/secret',
    'http://[::ffff:127.0.0.1]:PORT/secret',
    'http://[::1]:PORT/secret',
    '//127.0.0.1:PORT/secret',
  ])('refuses a redirect to %s and never reaches the internal service', async (location) => {
    await expect(get(`/to/${encodeURIComponent(location)}`)).rejects.toBeInstanceOf(BlockedAddressError);
    expect(internalHits).toBe(0);
  });

  it('sends the raw path as given and follows a bounded number of redirects', async () => {
    const res = await get('/pub/10.5555/%2E%2E/%2E%2E/x');
    let body = '';
    for await (const chunk of res.body) body += String(chunk);
    expect(body).toBe('path /pub/10.5555/%2E%2E/%2E%2E/x');
    await expect(get('/loop')).rejects.toBeInstanceOf(TooManyRedirectsError);
  });
});
