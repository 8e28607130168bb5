/**
 * The deadline queue: a binary min-heap ordered by (deadline, seq). `seq` is a per-queue insertion
 * counter so that entries with equal deadlines fire in the order they were scheduled, which keeps
 * virtual-clock runs deterministic. Entries know their heap index, so cancel is O(log n) and
 * cancelled timers do not pile up in the heap.
 *
 * An entry may be *background* (a watchdog's tick): it fires like any other, but the queue counts
 * only the foreground ones, and a virtual-time run whose only pending entries are background ones
 * is quiescent (the scheduler ends it), as a Node timer that is `unref()`ed keeps no process alive.
 */

/** Opaque handle to a scheduled callback; pass it to `cancel`. */
export class DeadlineEntry {
  /** @internal */ deadline = 0;
  /** @internal */ seq = 0;
  /** @internal position in the heap, -1 when not queued. */ index = -1;
  /** @internal keeps no run alive (see the file comment); change it only through `DeadlineQueue.arm`. */ background = false;
  /** @internal */ readonly fn: () => void;

  /** @internal */
  constructor(fn: () => void) {
    this.fn = fn;
  }

  /** True while the callback is still waiting to fire. */
  get pending(): boolean {
    return this.index >= 0;
  }

  /** The time (ns) the callback is due at. */
  get deadlineNs(): number {
    return this.deadline;
  }
}

function before(a: DeadlineEntry, b: DeadlineEntry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/** @internal Min-heap of deadline entries. */
export class DeadlineQueue {
  private readonly heap: DeadlineEntry[] = [];
  private nextSeq = 0;
  private foregroundCount = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Queued entries that are not background: 0 means only background work is left. */
  get foreground(): number {
    return this.foregroundCount;
  }

  /** Queue `fn` at `deadline`; returns its handle. */
  push(deadline: number, fn: () => void): DeadlineEntry {
    const e = new DeadlineEntry(fn);
    this.arm(e, deadline);
    return e;
  }

  /**
   * Re-queue an entry (lets periodic timers avoid allocation); `background` (default: as it was)
   * says whether it keeps a run alive.
   */
  arm(e: DeadlineEntry, deadline: number, background = e.background): void {
    if (e.index >= 0) this.remove(e);
    e.background = background;
    if (!background) this.foregroundCount++;
    e.deadline = deadline;
    e.seq = this.nextSeq++;
    e.index = this.heap.length;
    this.heap.push(e);
    this.siftUp(e.index);
  }

  /** Remove a queued entry. Returns false if it already fired or was cancelled. */
  cancel(e: DeadlineEntry): boolean {
    if (e.index < 0 || this.heap[e.index] !== e) return false;
    this.remove(e);
    return true;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekDeadline(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].deadline;
  }

  /** Pop the earliest entry if it is due at or before `now`, else undefined. */
  popDue(now: number): DeadlineEntry | undefined {
    const heap = this.heap;
    if (heap.length === 0 || heap[0].deadline > now) return undefined;
    const top = heap[0];
    this.remove(top);
    return top;
  }

  private remove(e: DeadlineEntry): void {
    const heap = this.heap;
    const i = e.index;
    const last = heap.pop()!;
    e.index = -1;
    if (!e.background) this.foregroundCount--;
    if (last === e) return;
    heap[i] = last;
    last.index = i;
    // The moved element may belong either above or below its new slot.
    this.siftUp(i);
    this.siftDown(last.index);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const e = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!before(e, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!before(child, e)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}
