import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  BlockedAddressError,
  checkUrl,
  type OutboundPolicy,
  refuseNonPublic,
  hostKey,
} from './outbound-policy';

/** One hop's target: the URL, and the exact path to send when it must not be normalised. */
export interface Hop {
  url: URL;
  /** Sent as is (already encoded); the URL parser would resolve `%2E%2E` segments. */
  rawPath?: string;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

export interface GetOptions {
  signal: AbortSignal;
  maxRedirects: number;
  headers?: Record<string, string>;
  /** Called before each hop is sent (e.g. to wait out a hold on its host); may throw. */
  beforeHop?: (url: URL) => Promise<void>;
}

export class TooManyRedirectsError extends Error {}

/**
 * GETs a URL under an outbound policy, following redirects by hand so every hop is
 * checked: its URL before connecting, and the addresses its name resolves to inside the
 * socket's lookup (all of them, so a name with one public and one private address is
 * refused), which is the address the socket then connects to: there is no second
 * resolution between the check and the connect. Node skips the lookup for literal
 * addresses, which `checkUrl` covers.
 *
 * Written on node's http rather than a library: the agents on the registry
 * (request-filtering-agent, ssrf-req-filter) allow addresses, not `host:port` pairs, so a
 * test's fake publisher on 127.0.0.1 would open every loopback port.
 */
export class OutboundClient {
  constructor(private readonly policy: OutboundPolicy) {}

  async get(start: Hop, options: GetOptions): Promise<OutboundResponse> {
    let hop = start;
    for (let redirects = 0; ; redirects++) {
      await options.beforeHop?.(hop.url);
      const res = await this.send(hop, options);
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.destroy();
        if (redirects >= options.maxRedirects)
          throw new TooManyRedirectsError(`More than ${options.maxRedirects} redirects`);
        hop = { url: new URL(location, hop.url) };
        continue;
      }
      return { status: res.statusCode ?? 0, headers: res.headers, body: res, url: hop.url };
    }
  }

  private send({ url, rawPath }: Hop, options: GetOptions): Promise<IncomingMessage> {
    checkUrl(url, this.policy);
    const exempt = this.policy.allowHosts.has(hostKey(url));
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.get(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || undefined,
          path: rawPath ?? `${url.pathname}${url.search}`,
          headers: options.headers,
          signal: options.signal,
          // One connection per hop: a pooled socket would skip the lookup check.
          agent: false,
          lookup: exempt ? undefined : guardedLookup,
        },
        resolve,
      );
      req.once('error', (error) => reject(unwrapBlocked(error)));
    });
  }
}

/**
 * dns.lookup that refuses non-public answers. Node calls it with `all: true` when it
 * races address families (autoSelectFamily), and expects an array back then.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    try {
      if (addresses.length === 0) throw new Error(`${hostname} has no address`);
      for (const a of addresses) refuseNonPublic(a.address, hostname);
    } catch (refused) {
      return callback(refused as NodeJS.ErrnoException, '', 0);
    }
    if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
};

/** The socket may wrap the lookup's error; the policy's refusal keeps its own type. */
function unwrapBlocked(error: Error): Error {
  let current = error as { cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof BlockedAddressError) return current;
    current = current.cause as { cause?: unknown } | undefined;
  }
  // autoSelectFamily reports an AggregateError of every attempt.
  if (error instanceof AggregateError) {
    const blocked = error.errors.find((e) => e instanceof BlockedAddressError);
    if (blocked) return blocked;
  }
  return error;
}
