import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { Client } from 'pg';
import { io, Socket } from 'socket.io-client';
import { migratePostgres } from '../../backend/src/common/prisma/postgres-migrator';
import { migrateSqlite } from '../../backend/src/common/prisma/sqlite-migrator';
import { DEV_JWT_SECRET } from '../../backend/src/common/config/app-config';
import { spawnServer, ServerProcess } from '../../backend/test/support/server-process';

export const ROOT = path.resolve(__dirname, '..', '..');
const jwt = new JwtService();

export const tokenFor = (userId: string, roles: string[] = []) =>
  jwt.sign({ sub: userId, roles }, { secret: DEV_JWT_SECRET, expiresIn: 3600 });

export interface BenchServer extends ServerProcess {
  dir: string;
  close(): Promise<void>;
}

export const BENCH_POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** A freshly migrated database (SQLite file, or a new PostgreSQL schema) and the real compiled server on it. */
export async function startServer(
  env: Record<string, string> = {},
  backend: 'sqlite' | 'postgres' = 'sqlite',
): Promise<BenchServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const schema = `bench_${process.pid}_${Date.now()}`;
  const url =
    backend === 'postgres' ? `${BENCH_POSTGRES_URL}?schema=${schema}` : `file:${path.join(dir, 'app.db')}`;
  if (backend === 'postgres') await migratePostgres(url);
  else migrateSqlite(url);
  const server = await spawnServer({
    DATABASE_URL: url,
    LOG_DIR: path.join(dir, 'logs'),
    LOG_LEVEL: 'warn',
    MAX_BATCH_ITEMS: '100000',
    MAX_BODY_BYTES: String(64 * 1024 * 1024),
    RATE_LIMIT_BATCH_OPERATIONS: '100000/3600',
    RATE_LIMIT_BATCH_ITEM_PROCESSING: '100000000/3600',
    RATE_LIMIT_THROTTLE_DEFAULT: '100000000/60',
    RATE_LIMIT_SOCKET_EVENTS: '100000/60',
    ...env,
  });
  await request(
    server.baseUrl,
    'PUT',
    '/feature-flags/BATCH_OPERATIONS',
    tokenFor('bench-admin', ['admin']),
    {
      enabled: true,
      rollout: 100,
    },
  );
  return {
    ...server,
    dir,
    close: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      if (backend === 'postgres') {
        const client = new Client({ connectionString: BENCH_POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(
  baseUrl: string,
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      `${baseUrl}${url}`,
      {
        method,
        agent,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function connectSocket(baseUrl: string, token: string): Promise<Socket> {
  const socket = io(`${baseUrl}/batches`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Resident set size of a process now (VmRSS), in MB. */
export function currentRssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}
