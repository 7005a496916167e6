import type { Hop } from './outbound-client';

/**
 * The publisher's URL of a DOI: the base URL's path, then the DOI's own segments, each
 * percent-encoded, so nothing in a DOI leaves the base path. Segments of dots only are
 * sent as `%2E…` in a raw path: the URL parser would resolve even encoded dot segments.
 */
export function publisherHop(baseUrl: string, doi: string): Hop {
  const base = new URL(baseUrl);
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const segments = doi
    .split('/')
    .map((segment) => (/^\.+$/.test(segment) ? segment.replace(/\./g, '%2E') : encodeURIComponent(segment)));
  const rawPath = `${prefix}${segments.join('/')}`;
  return { url: new URL(rawPath, base.origin), rawPath };
}
