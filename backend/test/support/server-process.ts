import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { devToken } from './wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SERVER_ENTRY = path.join(ROOT, 'dist', 'src', 'main.js');
export const MIGRATE_ENTRY = path.join(ROOT, 'dist', 'scripts', 'migrate.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  port: number;
  baseUrl: string;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no shutdown hooks, no flushing, like a crash. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/** Extra node flags for the server, e.g. SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a bench. */
const nodeArgs = () => (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Starts the real compiled server (dist/src/main.js) as a child process and waits for /health.
 * With `migrate`, it starts as `npm start` does: the migrator first, then the server.
 */
export async function spawnServer(
  env: Record<string, string>,
  /** `port`: listen there (a restart on the same address, as clients reconnect to it). */
  options: { migrate?: boolean; port?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  let log = '';
  const node = JSON.stringify(process.execPath);
  const command = options.migrate
    ? ['/bin/sh', ['-c', `${node} ${MIGRATE_ENTRY} && exec ${node} ${SERVER_ENTRY}`]]
    : [process.execPath, [...nodeArgs(), SERVER_ENTRY]];
  const child = spawn(command[0] as string, command[1] as string[], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_CONSOLE: 'false', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const waitExit = () =>
    exited() ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited()) throw new Error(`server exited during start-up:\n${log}`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    baseUrl,
    child,
    output: () => log,
    crash: async () => {
      child.kill('SIGKILL');
      await waitExit();
    },
    stop: async () => {
      child.kill('SIGTERM');
      await waitExit();
    },
  };
}

/** Turns BATCH_OPERATIONS on for everyone, through the admin API of a spawned server. */
export async function enableBatchesOn(server: { baseUrl: string }): Promise<void> {
  const res = await fetch(`${server.baseUrl}/feature-flags/BATCH_OPERATIONS`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${devToken('root', ['admin'])}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ enabled: true, rollout: 100 }),
  });
  if (res.status !== 200) throw new Error(`enabling BATCH_OPERATIONS answered ${res.status}`);
}
