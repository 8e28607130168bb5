/**
 * Open-loop pacing: the intended send time of every request is fixed in advance by the offered
 * rate, independent of when replies come back. A generator that falls behind sends the overdue
 * requests at once, and their latency is still counted from the intended time, so a stalled
 * server cannot hide its stall by slowing the client down (coordinated omission).
 *
 * Times are in nanoseconds of whatever clock the caller uses (wall, or a simulation's).
 */
import { Xorshift32 } from './prng.js';

export type Arrivals = 'uniform' | 'poisson';

export interface ScheduleOptions {
  /** Requests per second, > 0. */
  rate: number;
  /** Intended time of request 0. */
  startNs: number;
  /** Inter-arrival distribution: evenly spaced, or exponential (mutilate's default). Default 'poisson'. */
  arrivals?: Arrivals;
  seed?: number;
}

export class OpenLoopSchedule {
  readonly intervalNs: number;
  private readonly poisson: boolean;
  private readonly rng: Xorshift32;
  private readonly startNs: number;
  private nextNs: number;
  /** Requests handed out so far (the index of the next one). */
  issued = 0;

  constructor(o: ScheduleOptions) {
    if (!(Number.isFinite(o.rate) && o.rate > 0)) throw new RangeError(`schedule rate must be a positive number of requests per second, got ${o.rate}`);
    if (!Number.isFinite(o.startNs)) throw new RangeError(`schedule startNs must be finite, got ${o.startNs}`);
    const arrivals = o.arrivals ?? 'poisson';
    if (arrivals !== 'uniform' && arrivals !== 'poisson') throw new RangeError(`schedule arrivals must be 'uniform' or 'poisson', got ${String(arrivals)}`);
    this.intervalNs = 1e9 / o.rate;
    this.poisson = arrivals === 'poisson';
    this.rng = new Xorshift32(o.seed ?? 1);
    this.startNs = o.startNs;
    this.nextNs = o.startNs;
  }

  /** The intended time of the next request (not yet handed out). */
  peek(): number {
    return this.nextNs;
  }

  /**
   * Hands out the next request's intended time if it is due by `nowNs`, else returns NaN.
   * Callers loop `while (!Number.isNaN(t = s.take(now)))`.
   */
  take(nowNs: number): number {
    if (this.nextNs > nowNs) return Number.NaN;
    const t = this.nextNs;
    this.issued++;
    if (this.poisson) {
      // -ln(U) with U in (0, 1]: never a zero or infinite gap.
      this.nextNs += -Math.log(1 - this.rng.next()) * this.intervalNs;
    } else {
      // From the start, not cumulative: no drift from rounding over millions of requests.
      this.nextNs = this.startNs + this.issued * this.intervalNs;
    }
    return t;
  }
}
