import type { GuestMemoryKind } from './memory.js';
import type { MemoryRecycler } from './memory-recycler.js';
import type { Clock } from './clock.js';
import type { DeadlineQueue } from './event-queue.js';
import type { FaultLog } from './fault-log.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import type { TraceRecorder } from './trace.js';

/**
 * @internal What a simulation lends to the machines it owns. Passed explicitly (never a module
 * global) so that many simulations can share one process.
 */
export interface SimulationHost {
  readonly clock: Clock;
  readonly queue: DeadlineQueue;
  readonly scheduler: Scheduler;
  readonly trace: TraceRecorder;
  readonly consoleToStdout: boolean;
  /** Whether cores carry CoreStats counters. */
  readonly coreStats: boolean;
  readonly faults: FaultLog;
  readonly prng: Prng;
  /** Where machines' memories come from when the simulation was given one (SimulationOptions.memory). */
  readonly memory: MemoryRecycler | undefined;
  /** Where new guest memory buffers live (SimulationOptions.guestMemory). */
  readonly guestMemory: GuestMemoryKind;
}
