import type { TimerHandle } from '@ebbrt/interfaces';

/** One started timer; it is its own handle. */
export class TimerEntry implements TimerHandle {
  /** Position in the heap, -1 when not queued. */
  heapIndex = -1;
  deadlineNs = 0;
  seq = 0;

  constructor(
    readonly hook: () => void,
    readonly periodNs: number,
    private readonly owner: { stop(handle: TimerHandle): void },
    /** Keeps no virtual-time run alive (TimerStartOptions.background). */
    readonly background = false,
  ) {}

  get active(): boolean {
    return this.heapIndex >= 0;
  }

  stop(): void {
    this.owner.stop(this);
  }
}

/** Min-heap of timers by (deadline, start order), so equal deadlines fire in start order. */
export class TimerHeap {
  private readonly items: TimerEntry[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  push(entry: TimerEntry): void {
    entry.seq = this.nextSeq++;
    entry.heapIndex = this.items.length;
    this.items.push(entry);
    this.up(entry.heapIndex);
  }

  remove(entry: TimerEntry): boolean {
    const i = entry.heapIndex;
    if (i < 0 || this.items[i] !== entry) return false;
    const last = this.items.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
    return true;
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq);
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
      if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const x = items[a]!;
    const y = items[b]!;
    items[a] = y;
    items[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }
}
