import { BlockedAddressError, checkUrl, nonPublicRange, parseAllowHosts } from './outbound-policy';
import { publisherHop } from './publisher-url';

describe('outbound policy', () => {
  const sut = { allowedPorts: new Set([80, 443, 8080]), allowHosts: parseAllowHosts('127.0.0.1:4000') };

  it.each([
    'http://127.0.0.1/',
    'http://127.0.0.2:8080/',
    'http://0.0.0.0/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::]/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/',
    'http://[fe80::1]/',
    'http://[fd12:3456::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[2002:7f00:1::]/',
    'https://192.0.2.10/',
  ])('refuses %s in any spelling', (url) => {
    expect(() => checkUrl(new URL(url), sut)).toThrow(BlockedAddressError);
  });

  it.each([
    'ftp://example.org/x',
    'file:///etc/passwd',
    'gopher://example.org/',
    'http://user:pw@example.org/',
  ])('refuses %s (scheme or credentials)', (url) =>
    expect(() => checkUrl(new URL(url), sut)).toThrow(BlockedAddressError),
  );

  it('refuses ports that are not allowed, also on public addresses', () => {
    expect(() => checkUrl(new URL('http://93.184.216.34:22/'), sut)).toThrow('Refused port 22');
    expect(() => checkUrl(new URL('http://127.0.0.1:4001/'), sut)).toThrow(BlockedAddressError);
  });

  it('lets public addresses, names (checked at lookup) and the exempt host:port through', () => {
    for (const url of [
      'http://93.184.216.34/',
      'https://[2606:4700::6810:85e5]/',
      'https://doi.org/10.1000/x',
      'http://127.0.0.1:4000/pub/x',
    ])
      expect(() => checkUrl(new URL(url), sut)).not.toThrow();
  });

  it('names the range of an address', () => {
    expect(nonPublicRange('8.8.8.8')).toBeNull();
    expect(nonPublicRange('::ffff:10.0.0.1')).toBe('private');
    expect(nonPublicRange('fe80::1')).toBe('linkLocal');
    expect(nonPublicRange('not an address')).toBe('invalid');
  });

  it('parses FULLTEXT_ALLOW_HOSTS and insists on a port', () => {
    expect([...parseAllowHosts(' 127.0.0.1:4000, Localhost:80 ,[::1]:9')]).toEqual([
      '127.0.0.1:4000',
      'localhost:80',
      '::1:9',
    ]);
    expect(() => parseAllowHosts('127.0.0.1')).toThrow('must name a port');
  });
});

describe(publisherHop.name, () => {
  it.each([
    ['10.5555/../../x', '/pub/10.5555/%2E%2E/%2E%2E/x'],
    ['10.5555/%2e%2e/%2e%2e/x', '/pub/10.5555/%252e%252e/%252e%252e/x'],
    ['10.5555/.%2e/x', '/pub/10.5555/.%252e/x'],
    ['10.5555/..\\..\\x', '/pub/10.5555/..%5C..%5Cx'],
    ['10.5555/a?b#c', '/pub/10.5555/a%3Fb%23c'],
    ['10.1000/xyz.1', '/pub/10.1000/xyz.1'],
  ])('keeps %s under the base path', (doi, path) => {
    const hop = publisherHop('https://publisher.example/pub', doi);
    expect(hop.rawPath).toBe(path);
    expect(hop.url.host).toBe('publisher.example');
  });
});
