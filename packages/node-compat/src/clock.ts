import type { NodeEbbs } from './host.js';

/**
 * The node's clock as Node's: `Date`, `performance` and `process.hrtime` all read the Timer Ebb
 * (virtual time on a simulated node), offset so that `Date.now()` starts at `epochMs`.
 */
export class NodeClock {
  private readonly startUs: number;

  constructor(
    private readonly ebbs: NodeEbbs,
    /** Wall time (ms since the epoch) the app starts at: fixed for a replayable run. */
    readonly epochMs: number,
  ) {
    this.startUs = ebbs.timer.deref().now();
  }

  /** Microseconds since the app started. */
  elapsedUs(): number {
    return this.ebbs.timer.deref().now() - this.startUs;
  }

  nowMs(): number {
    return this.epochMs + Math.floor(this.elapsedUs() / 1000);
  }

  /** A `Date` constructor whose "now" is the node's: `new Date()`, `Date()`, `Date.now()`. */
  dateClass(): DateConstructor {
    const RealDate = Date;
    const clock = this;
    class NodeDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(clock.nowMs());
        else super(...(args as [number]));
      }
      static override now(): number {
        return clock.nowMs();
      }
      // Dates made elsewhere (a library's realm, JSON revivers) are still Dates.
      static override [Symbol.hasInstance](value: unknown): boolean {
        return value instanceof RealDate;
      }
    }
    // `Date()` called as a function returns the current time as a string.
    return new Proxy(NodeDate, { apply: () => new RealDate(clock.nowMs()).toString() }) as unknown as DateConstructor;
  }

  /** `performance` / `perf_hooks.performance`: `now()` in ms since the app started. */
  performance(): Record<string, unknown> {
    const real = globalThis.performance;
    return {
      now: () => this.elapsedUs() / 1000,
      timeOrigin: this.epochMs,
      toJSON: () => ({ timeOrigin: this.epochMs }),
      // Marks and measures keep the host's own time base: only `now()` is the node's.
      mark: real.mark.bind(real),
      measure: real.measure.bind(real),
      getEntries: real.getEntries.bind(real),
      getEntriesByName: real.getEntriesByName.bind(real),
      getEntriesByType: real.getEntriesByType.bind(real),
      clearMarks: real.clearMarks.bind(real),
      clearMeasures: real.clearMeasures.bind(real),
      eventLoopUtilization: () => ({ idle: 0, active: 0, utilization: 0 }),
    };
  }

  /** `process.hrtime` (with `.bigint()`), in the node's time. */
  hrtime(): ((prev?: [number, number]) => [number, number]) & { bigint(): bigint } {
    const ns = (): number => this.elapsedUs() * 1000;
    const hrtime = (prev?: [number, number]): [number, number] => {
      let t = ns();
      if (prev !== undefined) t -= prev[0] * 1e9 + prev[1];
      return [Math.floor(t / 1e9), t % 1e9];
    };
    return Object.assign(hrtime, { bigint: () => BigInt(Math.round(ns())) });
  }
}
