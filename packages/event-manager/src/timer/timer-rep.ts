import type { EventManager, Timer, TimerHandle, TimerStartOptions } from '@ebbrt/interfaces';
import { TimerEntry, TimerHeap } from './timer-heap.js';

/**
 * Per-core timers over one hardware deadline: the earliest pending timer arms
 * it, and on expiry every due hook fires as its own event on this core.
 * Repeating timers advance from their previous deadline, so they never drift.
 * The hardware deadline is background (keeps no virtual-time run alive) only while every pending
 * timer of this core is: one foreground timer anywhere in the heap keeps the run going to it.
 */
export abstract class TimerRep implements Timer {
  private readonly heap = new TimerHeap();
  private armedNs = Infinity;
  private armedBackground = false;
  /** Pending timers that are not background. */
  private foreground = 0;

  constructor(protected readonly events: EventManager) {}

  /** Current time in nanoseconds. */
  protected abstract nowNs(): number;
  /** Programs the hardware to call `expire` at `deadlineNs` (Infinity disarms); `background`: keeps no run alive. */
  protected abstract arm(deadlineNs: number, background: boolean): void;

  start(hook: () => void, delayUs: number, repeat = false, options?: TimerStartOptions): TimerHandle {
    if (typeof hook !== 'function') throw new TypeError('Timer.start: hook must be a function');
    if (!Number.isFinite(delayUs) || delayUs < 0) {
      throw new RangeError(`Timer.start: delayUs must be a finite number >= 0, got ${delayUs}`);
    }
    const delayNs = Math.round(delayUs * 1000);
    if (repeat && delayNs < 1) throw new RangeError('Timer.start: a repeating timer needs a period of at least 1 ns');
    const background = options?.background === true;
    const entry = new TimerEntry(hook, repeat ? delayNs : 0, this, background);
    entry.deadlineNs = this.nowNs() + delayNs;
    this.heap.push(entry);
    if (!background) this.foreground++;
    this.rearm();
    return entry;
  }

  stop(handle: TimerHandle): void {
    if (!(handle instanceof TimerEntry)) throw new TypeError('Timer.stop: not a handle from this timer');
    if (this.heap.remove(handle)) {
      if (!handle.background) this.foreground--;
      this.rearm();
    }
  }

  sleep(us: number): Promise<void> {
    const wake = this.events.promise<void>();
    this.start(() => wake.resolve(), us);
    return wake.promise;
  }

  now(): number {
    return this.nowNs() / 1000;
  }

  /** The hardware deadline passed: fire every due hook, in deadline order. */
  protected expire(): void {
    this.armedNs = Infinity;
    const now = this.nowNs();
    for (let top = this.heap.peek(); top !== undefined && top.deadlineNs <= now; top = this.heap.peek()) {
      this.heap.remove(top);
      if (top.periodNs > 0) {
        top.deadlineNs += top.periodNs;
        this.heap.push(top);
      } else if (!top.background) this.foreground--;
      this.events.spawn(top.hook);
    }
    this.rearm();
  }

  private rearm(): void {
    const next = this.heap.peek()?.deadlineNs ?? Infinity;
    const background = this.foreground === 0;
    if (next === this.armedNs && background === this.armedBackground) return;
    this.armedNs = next;
    this.armedBackground = background;
    this.arm(next, background);
  }
}
