/** A started timer; stopping a stopped timer is a no-op. */
export interface TimerHandle {
  stop(): void;
  readonly active: boolean;
}

/**
 * Per-core timers, as EbbRT's Timer Ebb: a hook fires as an event on the core that
 * started it, after `delayUs` microseconds, once or repeatedly.
 */
export interface Timer {
  start(hook: () => void, delayUs: number, repeat?: boolean): TimerHandle;
  stop(handle: TimerHandle): void;
  /** Resolves after `us` microseconds, resuming on this core. */
  sleep(us: number): Promise<void>;
  /** Current time in microseconds (virtual time on simulated nodes). */
  now(): number;
}
