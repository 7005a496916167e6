/**
 * How many items a chunk of an operation should take, from how long its items have taken
 * in this process: a chunk of a slow operation is cut so that it records its outcomes
 * (and moves the batch's counters, which users watch) about every `targetMs`, while a
 * fast operation keeps full chunks, where set-based writes pay off. An operation not seen
 * yet gets a small first chunk, which measures it.
 */
export class ChunkPace {
  /** Moving average of milliseconds per item, per operation. */
  private readonly msPerItem = new Map<string, number>();

  constructor(
    private readonly targetMs: number,
    private readonly firstChunk = 8,
  ) {}

  /** The chunk size for `operation`, at most `limit`. */
  sizeFor(operation: string, limit: number): number {
    const perItem = this.msPerItem.get(operation);
    if (perItem === undefined) return Math.min(limit, this.firstChunk);
    if (perItem * limit <= this.targetMs) return limit;
    return Math.max(1, Math.min(limit, Math.floor(this.targetMs / perItem)));
  }

  /** Records that `items` items of `operation` ran in `ms`. */
  ran(operation: string, items: number, ms: number): void {
    if (items <= 0) return;
    const sample = ms / items;
    const before = this.msPerItem.get(operation);
    this.msPerItem.set(operation, before === undefined ? sample : before * 0.7 + sample * 0.3);
  }
}
