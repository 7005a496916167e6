import ipaddr from 'ipaddr.js';

/**
 * Where outbound requests may go. Every hop (the first request and each redirect) is
 * checked twice: its URL before connecting (scheme, port, a literal address in any
 * spelling the URL parser accepts), and the addresses its name resolves to, inside the
 * socket's own lookup, so the address checked is the address connected to.
 */
export interface OutboundPolicy {
  /** Ports a request may use (default 80 and 443). */
  allowedPorts: ReadonlySet<number>;
  /**
   * `host:port` pairs exempt from the address check (named loopback fakes in development
   * and tests; refused in production by the configuration).
   */
  allowHosts: ReadonlySet<string>;
}

/** A hop that the policy refuses; the item fails for good (`blocked_address`). */
export class BlockedAddressError extends Error {}

/**
 * The IANA range ipaddr.js assigns to `address` when it is not a public unicast address
 * (loopback, private, link-local, unique-local, multicast, unspecified, carrier-grade NAT,
 * reserved, and IPv6 forms that embed IPv4, such as mapped, 6to4 and Teredo), else null.
 * ipaddr.js is Express's own address parser; `process` unwraps IPv4-mapped IPv6 first.
 */
export function nonPublicRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? null : range;
}

/** `host:port` as the allow list spells it: lower case, IPv6 without brackets, default ports filled in. */
export function hostKey(url: URL): string {
  return `${url.hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${portOf(url)}`;
}

export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Parses `FULLTEXT_ALLOW_HOSTS` (`host:port,host:port`); throws on an entry without a port. */
export function parseAllowHosts(value: string | undefined): Set<string> {
  const hosts = new Set<string>();
  for (const entry of (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!/:\d+$/.test(entry)) throw new Error(`${entry} must name a port (host:port)`);
    hosts.add(hostKey(new URL(`http://${entry}`)));
  }
  return hosts;
}

/** Checks a hop's URL before anything is sent: scheme, port, and a literal address. */
export function checkUrl(url: URL, policy: OutboundPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BlockedAddressError(`Refused ${url.protocol} URL: only http and https are fetched`);
  if (url.username || url.password) throw new BlockedAddressError('Refused a URL with credentials');
  if (policy.allowHosts.has(hostKey(url))) return;
  const port = portOf(url);
  if (!policy.allowedPorts.has(port))
    throw new BlockedAddressError(`Refused port ${port} of ${url.hostname}`);
  // The URL parser already turned 2130706433, 0x7f.1 and 0177.0.0.1 into 127.0.0.1.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) refuseNonPublic(host, url.hostname);
}

/** Throws when a resolved or literal address is not public. */
export function refuseNonPublic(address: string, name: string): void {
  const range = nonPublicRange(address);
  if (range) {
    const shown = name === address ? address : `${name} (${address})`;
    throw new BlockedAddressError(`Refused ${shown}: a ${range} address`);
  }
}
