import { execFile } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './harness';

export interface Latency {
  p50: number;
  p99: number;
  requests: number;
}

/**
 * Latency of GET `url` under `connections` concurrent clients for `seconds`, measured by
 * autocannon in a process of its own (the load generator does not share the server's or
 * this script's event loop).
 */
export function loadFromOwnProcess(
  url: string,
  token: string,
  seconds: number,
  connections = 10,
): Promise<Latency> {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'autocannon');
  const args = [
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-H',
    `Authorization=Bearer ${token}`,
    url,
  ];
  return new Promise((resolve, reject) =>
    execFile(bin, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`autocannon failed: ${error.message}`));
      const out = JSON.parse(stdout) as {
        latency: { p50: number; p99: number };
        requests: { total: number };
        non2xx: number;
      };
      if (out.non2xx > 0) return reject(new Error(`${url}: ${out.non2xx} non-2xx answers`));
      resolve({ p50: out.latency.p50, p99: out.latency.p99, requests: out.requests.total });
    }),
  );
}
