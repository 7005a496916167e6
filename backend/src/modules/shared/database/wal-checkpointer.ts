import { Worker } from 'node:worker_threads';

/**
 * How many WAL pages a connection of ours lets grow before it checkpoints inline (SQLite's
 * default is 1,000). The background checkpointer below copies pages to the database file
 * long before that; the inline checkpoint is what restarts the WAL from its beginning
 * under continuous writes (its pages are then mostly copied already), and the safety net
 * if the background thread is not running. At 4 KB pages the WAL stays under ~40 MB.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** How often the background thread checkpoints (a no-op when nothing was written). */
const CHECKPOINT_EVERY_MS = 100;

/**
 * The thread's code (run with `eval`, so it needs no compiled file of its own, under
 * ts-jest as under dist): its own connection to the file, a PASSIVE checkpoint on a
 * timer (it copies what it can without waiting for readers or writers, and never holds
 * a read transaction that would keep the WAL from restarting), closed on 'stop'.
 * Failures are ignored: the next tick tries again, and the writers' own autocheckpoint
 * stays the safety net.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

interface Running {
  worker: Worker;
  users: number;
  stopped: Promise<void>;
}

const running = new Map<string, Running>();

/**
 * Checkpoints a WAL-mode SQLite file from a background thread, for as long as at least
 * one user holds it (one thread per file and process, however many connections of ours
 * use it). Why: better-sqlite3 runs everything on the event loop, and an inline
 * checkpoint (copying the WAL's pages into the database file and syncing both, every
 * 1,000 pages by default) measured ~25 % of the engine's SQL time per chunk; the thread
 * does that copy on another core while the event loop only appends to the WAL. Writers
 * of ours raise their autocheckpoint to WAL_AUTOCHECKPOINT_PAGES. Durability is
 * unchanged: commits are in the WAL either way, and a crash leaves a WAL that the next
 * connection replays. Returns the call that gives the hold back.
 */
export function holdWalCheckpointer(file: string): () => Promise<void> {
  let entry = running.get(file);
  if (!entry) {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file, everyMs: CHECKPOINT_EVERY_MS },
      // A timer and a connection: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    // Never what keeps a process alive, and never a crash: a thread that failed (a file that
    // went away, a driver that cannot load) leaves the writers' own checkpoints to do the work.
    worker.unref();
    worker.on('error', () => undefined);
    const stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    entry = { worker, users: 0, stopped };
    running.set(file, entry);
  }
  const held = entry;
  held.users += 1;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.users -= 1;
    if (held.users > 0) return;
    running.delete(file);
    held.worker.postMessage('stop');
    // It closes its connection and ends; if it does not within a second, it is ended.
    const timeout = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 1000).unref());
    if ((await Promise.race([held.stopped.then(() => 'ended' as const), timeout])) === 'late')
      await held.worker.terminate();
  };
}

/** Files with a checkpointer thread running in this process (for tests). */
export function walCheckpointedFiles(): string[] {
  return [...running.keys()];
}
