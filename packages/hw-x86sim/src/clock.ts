/**
 * Simulation time. Unit everywhere: integer nanoseconds held in a JS number (exact up to ~104 days).
 *
 * - `virtual`: time is a counter that only the scheduler moves, to the next deadline, when every
 *   core is idle. Nothing here reads the wall clock, which is what makes runs replayable.
 * - `realtime`: time is wall time since the clock was created. Only this mode reads the wall clock,
 *   and it records once, at creation, which Unix time simulation time 0 was (`epochOriginMs`), for
 *   consumers that want calendar time (pcap timestamps).
 */

/** Which clock drives a simulation. */
export type ClockKind = 'virtual' | 'realtime';

/** @internal The simulation's time source. */
export class Clock {
  readonly kind: ClockKind;
  private virtualNs = 0;
  private readonly wallOriginMs: number;
  /** Realtime only: the Unix time (ms) at simulation time 0. Undefined for a virtual clock. */
  readonly epochOriginMs: number | undefined;

  constructor(kind: ClockKind) {
    if (kind !== 'virtual' && kind !== 'realtime') {
      throw new RangeError(`clock must be 'virtual' or 'realtime', got ${String(kind)}`);
    }
    this.kind = kind;
    this.wallOriginMs = kind === 'realtime' ? performance.now() : 0;
    this.epochOriginMs = kind === 'realtime' ? Date.now() : undefined;
  }

  /** Current time in integer nanoseconds. */
  now(): number {
    if (this.kind === 'virtual') return this.virtualNs;
    return Math.floor((performance.now() - this.wallOriginMs) * 1e6);
  }

  /** Virtual clock only: jump forward to `ns` (never backwards). */
  advanceTo(ns: number): void {
    if (ns > this.virtualNs) this.virtualNs = ns;
  }
}
