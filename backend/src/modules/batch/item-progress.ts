import type { ChunkItem } from './operations/batch-operation';

export interface ItemProgressReport {
  stage: string;
  /** 0-100 within the item. */
  percentage: number;
  message?: string;
}

interface Held {
  item: ChunkItem<unknown>;
  report: ItemProgressReport;
  timer: NodeJS.Timeout | null;
  lastSentAt: number;
}

/**
 * Coalesces the progress an operation reports inside items: per item at most one
 * delivery per interval, the first at once and the last always (`flush` at the end of
 * the chunk). `deliver` stores the state on the item and publishes the event.
 */
export class ItemProgressCoalescer {
  private readonly items = new Map<string, Held>();

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (item: ChunkItem<unknown>, report: ItemProgressReport) => void,
    private readonly now: () => number = Date.now,
  ) {}

  report(item: ChunkItem<unknown>, report: ItemProgressReport): void {
    const clamped = { ...report, percentage: Math.max(0, Math.min(100, Math.round(report.percentage))) };
    const held = this.items.get(item.id);
    const now = this.now();
    if (!held) {
      this.items.set(item.id, { item, report: clamped, timer: null, lastSentAt: now });
      this.deliver(item, clamped);
      return;
    }
    held.report = clamped;
    if (held.timer) return;
    const wait = held.lastSentAt + this.intervalMs - now;
    if (wait <= 0) {
      held.lastSentAt = now;
      this.deliver(item, clamped);
      return;
    }
    held.timer = setTimeout(() => {
      held.timer = null;
      held.lastSentAt = this.now();
      this.deliver(held.item, held.report);
    }, wait);
  }

  /** Sends every held last state now (the chunk is done). */
  flush(): void {
    for (const held of this.items.values()) {
      if (!held.timer) continue;
      clearTimeout(held.timer);
      held.timer = null;
      this.deliver(held.item, held.report);
    }
    this.items.clear();
  }
}
