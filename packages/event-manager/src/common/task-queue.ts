import type { EventFn } from '@ebbrt/interfaces';

/**
 * A FIFO of events as a growable ring buffer: push and shift allocate nothing
 * once the ring has grown to the working-set size (a JS array's shift is O(n)).
 */
export class TaskQueue {
  private ring: (EventFn | undefined)[] = new Array(64).fill(undefined);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(fn: EventFn): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = fn;
    this.count++;
  }

  shift(): EventFn | undefined {
    if (this.count === 0) return undefined;
    const fn = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return fn;
  }

  /** Moves every queued event to the end of `to`, keeping order. */
  drainInto(to: TaskQueue): void {
    for (let fn = this.shift(); fn !== undefined; fn = this.shift()) to.push(fn);
  }

  private grow(): void {
    const next: (EventFn | undefined)[] = new Array(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) & (this.ring.length - 1)];
    this.ring = next;
    this.head = 0;
  }
}
