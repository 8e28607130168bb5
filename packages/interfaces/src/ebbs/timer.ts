/** A started timer; stopping a stopped timer is a no-op. */
export interface TimerHandle {
  stop(): void;
  readonly active: boolean;
}

/**
 * Per-core timers, as EbbRT's Timer Ebb: a hook fires as an event on the core that
 * started it, after `delayUs` microseconds, once or repeatedly.
 */
/** How a timer is started. */
export interface TimerStartOptions {
  /**
   * A background timer (a watchdog's tick) fires like any other, but keeps no virtual-time run
   * alive: a run whose only pending work is background timers is quiescent and ends, as a Node
   * timer that is `unref()`ed keeps no process alive. On a front-end it is `unref()`ed.
   */
  background?: boolean;
}

export interface Timer {
  start(hook: () => void, delayUs: number, repeat?: boolean, options?: TimerStartOptions): TimerHandle;
  stop(handle: TimerHandle): void;
  /** Resolves after `us` microseconds, resuming on this core. */
  sleep(us: number): Promise<void>;
  /** Current time in microseconds (virtual time on simulated nodes). */
  now(): number;
}
