interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

/**
 * Reads by key that share one statement while another is on its way to the database.
 *
 * A read starts at once when none is in flight, so an idle service pays nothing. While one
 * is in flight, the keys asked for meanwhile wait and go together, deduplicated, in the
 * next statement, which starts as soon as the first one is answered (or has been out for
 * `stallMs`). Every answer therefore comes from a statement that started after its caller
 * asked: a reader never sees a row older than its own request, as if each had read alone.
 *
 * Under load this turns N round trips into one (10 clients polling batches: PostgreSQL
 * answered ~2,000 reads per second, each a socket write of ~70–150 µs on this kind of
 * machine, besides the server's own CPU). DataLoader groups the keys of one event-loop
 * tick, which the requests of separate connections rarely share, and keeps a cache this
 * must not have; the rule here is a few lines, so it is written out.
 */
export class CoalescedReads<K, V> {
  private readonly pending = new Map<K, Waiter<V>[]>();
  /** The number of the newest statement sent. */
  private newest = 0;
  /** The newest statement is on its way and younger than `stallMs`: new keys wait for it. */
  private gateBusy = false;

  /**
   * @param read answers a set of distinct keys; a key it leaves out has no row (undefined).
   * @param maxKeys the most keys one statement asks for; the rest go in the next.
   * @param stallMs how long keys wait behind a statement still on its way before the next
   *   goes anyway: one stuck statement (a connection that died mid-read) must not hold every
   *   read behind it until the driver gives up.
   */
  constructor(
    private readonly read: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxKeys = 100,
    private readonly stallMs = 250,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.gateBusy) this.next();
    });
  }

  private next(): void {
    if (this.pending.size === 0) return;
    const group = new Map<K, Waiter<V>[]>();
    for (const [key, waiters] of this.pending) {
      if (group.size === this.maxKeys) break;
      group.set(key, waiters);
    }
    for (const key of group.keys()) this.pending.delete(key);
    const number = ++this.newest;
    this.gateBusy = true;
    const openGate = () => {
      if (number !== this.newest) return;
      this.gateBusy = false;
      this.next();
    };
    const stall = setTimeout(openGate, this.stallMs);
    stall.unref?.();
    const settle = (answer: (waiter: Waiter<V>, key: K) => void) => {
      clearTimeout(stall);
      for (const [key, waiters] of group) for (const waiter of waiters) answer(waiter, key);
      openGate();
    };
    // A read function that throws instead of rejecting fails its callers the same way.
    new Promise<Map<K, V>>((resolve) => resolve(this.read([...group.keys()]))).then(
      (rows) => settle((waiter, key) => waiter.resolve(rows.get(key))),
      (error: unknown) => settle((waiter) => waiter.reject(error)),
    );
  }
}
