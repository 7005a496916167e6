/**
 * Worker ids are `<host>:<pid>:<random>`. A chunk owned by a process of this host that no
 * longer runs (killed, or a host that calls `process.exit` on SIGTERM without shutdown
 * hooks) need not wait for its lease to run out: the restarted process can take it over
 * at once. A process is dead when `kill(pid, 0)` finds no such process, or when it has
 * this process's own pid but is none of this process's workers (a container restarts at
 * the same pid). A pid reused by an unrelated process reads as alive: that chunk waits
 * for its lease.
 */
export function isDeadLocalOwner(
  owner: string,
  self: string,
  alive: (pid: number) => boolean = processExists,
): boolean {
  if (owner === self || localWorkers.has(owner)) return false;
  const [host, pidText] = owner.split(':');
  const [selfHost, selfPid] = self.split(':');
  if (host !== selfHost) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pidText === selfPid) return true;
  return !alive(pid);
}

/** The workers of this process (several apps in one process each have one). */
const localWorkers = new Set<string>();

export function registerLocalWorker(workerId: string): () => void {
  localWorkers.add(workerId);
  return () => localWorkers.delete(workerId);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
