import { useEffect, useState } from 'react';

/**
 * The page's own URLs, in the hash (the server's paths are its API):
 * #/batches?status=&operation=&q=&owner=, #/batches/<id>?status=, #/new, #/papers, #/flags.
 */
export interface Route {
  view: 'batches' | 'batch' | 'new' | 'papers' | 'flags';
  id: string | null;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [pathPart, queryPart = ''] = hash.replace(/^#\/?/, '').split('?');
  const [head, id] = pathPart.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(queryPart);
  if (head === 'batches' && id) return { view: 'batch', id, params };
  if (head === 'new' || head === 'papers' || head === 'flags') return { view: head, id: null, params };
  return { view: 'batches', id: null, params };
}

export function href(path: string, params: Record<string, string | undefined | null> = {}): string {
  const query = new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  ).toString();
  return `#/${path}${query ? `?${query}` : ''}`;
}

export function navigate(path: string, params: Record<string, string | undefined | null> = {}): void {
  location.hash = href(path, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
