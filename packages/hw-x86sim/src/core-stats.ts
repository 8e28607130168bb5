/**
 * A core's performance counters, for live views. They model a PMU plus a window into the software
 * on the core: the scheduler bumps `slices` (and, only while `Simulation.sampleCores` is on, adds
 * the host time spent in slices); the software (an event loop) may register `software`, which a
 * live view reads when it takes a snapshot. Nothing is computed on the hot path beyond one integer
 * bump a slice. A simulation made with `coreStats: false` has none (`core.stats` is null), which
 * is what the bench compares against.
 */
export class CoreStats {
  /** Slices the scheduler ran on this core. */
  slices = 0;
  /** Host wall milliseconds spent inside this core's slices while `sampleCores` was on. */
  busyHostMs = 0;
  /** What the software running on the core reports, read only when sampled. */
  software: CoreSoftwareStats | null = null;
}

/** The oldest event that started on a core and has not finished (it is blocked on an await). */
export interface UnfinishedEvent {
  readonly id: number;
  readonly name: string;
  /** Simulation time (ns) at which it started. */
  readonly sinceNs: number;
}

/** Read by live views at snapshot time; the software keeps these numbers anyway. */
export interface CoreSoftwareStats {
  /** Events dispatched so far. */
  readonly eventsDispatched: number;
  /** Events queued and not yet started. */
  readonly eventsQueued: number;
  /**
   * The oldest unfinished event, or undefined. The first call may start the tracking (so a run
   * nobody watches pays nothing); events already blocked by then are not seen.
   */
  oldestUnfinishedEvent(): UnfinishedEvent | undefined;
}
