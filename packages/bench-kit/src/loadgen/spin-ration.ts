/**
 * When the generator's loop should spin to a request's due time and when it should sleep until
 * the pacer wakes it. Spinning the last `spinNs` before a send removes the wake-up's own delay,
 * but a SCHED_FIFO thread that spins all the time is stopped by the kernel's RT throttle (950 ms
 * of each second, then ~50 ms of nothing). So spinning is rationed: at most `share` of each
 * `periodNs`; past that, the pacer wakes the loop at the due time itself.
 */
export type PaceDecision = { kind: 'spin' } | { kind: 'sleep'; untilNs: number };

export interface SpinRationOptions {
  /** Wake this long before a request is due and spin the rest (ns, >= 0). */
  spinNs: number;
  /** The share of each period that may be spent spinning (0..1, default 0.3). */
  share?: number;
  /** The period the share is counted over (ns, default 100 ms). */
  periodNs?: number;
}

export class SpinRation {
  readonly spinNs: number;
  readonly budgetNs: number;
  readonly periodNs: number;
  private spinning = false;
  private lastNs = Number.NaN;
  private periodStartNs = Number.NaN;
  /** Time spent spinning in the current period. */
  spentNs = 0;

  constructor(o: SpinRationOptions) {
    const share = o.share ?? 0.3;
    this.periodNs = o.periodNs ?? 100e6;
    if (!(Number.isFinite(o.spinNs) && o.spinNs >= 0)) throw new RangeError(`spinNs must be a non-negative number of ns, got ${o.spinNs}`);
    if (!(share >= 0 && share <= 1)) throw new RangeError(`spin share must be in 0..1, got ${share}`);
    if (!(Number.isFinite(this.periodNs) && this.periodNs > 0)) throw new RangeError(`spin period must be a positive number of ns, got ${this.periodNs}`);
    this.spinNs = o.spinNs;
    this.budgetNs = share * this.periodNs;
  }

  /**
   * The loop pumped at `nowNs` and the next request is due at `nextNs` (NaN: none). Time since the
   * previous call counts as spinning if that call said spin.
   */
  decide(nowNs: number, nextNs: number): PaceDecision {
    if (this.spinning) this.spentNs += nowNs - this.lastNs;
    this.lastNs = nowNs;
    if (!(nowNs - this.periodStartNs <= this.periodNs)) {
      this.periodStartNs = nowNs;
      this.spentNs = 0;
    }
    this.spinning = false;
    if (Number.isNaN(nextNs)) return { kind: 'sleep', untilNs: Number.NaN };
    if (nextNs - nowNs > this.spinNs) return { kind: 'sleep', untilNs: nextNs - this.spinNs };
    if (this.spentNs >= this.budgetNs) return { kind: 'sleep', untilNs: nextNs };
    this.spinning = true;
    return { kind: 'spin' };
  }
}
