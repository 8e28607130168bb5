import { LocalApic } from './apic.js';
import type { SimulationHost } from './host.js';
import { CoreStats } from './core-stats.js';
import type { Machine } from './machine.js';

/** Power/run state of a core. `running` means runnable (the scheduler may enter it). */
export type CoreState = 'off' | 'running' | 'halted';

/**
 * What a slice returns: `halt` executes hlt (sleep until interrupt/wake); `yield` stays runnable;
 * `poll` means the core only polls (an idle callback found nothing): it sleeps like `halt`, but
 * the scheduler runs it again after any other activity (a busy slice, a hardware event, time
 * moving), as a real polling core would notice it. Polling cores never keep virtual time still.
 */
export type SliceResult = 'halt' | 'yield' | 'poll';

/** Software booted on a core. The scheduler calls `runSlice` whenever the core is runnable. */
export interface CoreProgram {
  runSlice(core: Core): SliceResult;
  /**
   * Optional: the core has left the CPU. Called at the start of the scheduler's next step, after
   * the microtask queue drained the slice's continuations, and before anything else runs (a
   * hardware event, another core). Software uses it to clear its "current core" register, so
   * code outside any slice never believes it runs on this core.
   */
  leftCpu?(core: Core): void;
}

/** One simulated CPU core. Only the scheduler enters it; software never calls `runSlice` itself. */
export class Core {
  /** Index within its machine (also the APIC id and the trace tid). */
  readonly index: number;
  readonly machine: Machine;
  readonly apic: LocalApic;
  /** Performance counters (see CoreStats); null in a simulation made with `coreStats: false`. */
  readonly stats: CoreStats | null;

  /** @internal position in the scheduler's runnable list, -1 if not runnable. */ _runIndex = -1;
  /** @internal set while the scheduler is inside runSlice for this core. */ _inSlice = false;
  /** @internal a wake() during the slice: a following 'halt' must not sleep (no lost wake-up). */
  _wakeLatched = false;
  /** @internal */ _program: CoreProgram | null = null;
  /** @internal a stall fault (SMI) holds the core: the scheduler does not enter it until it ends. */
  _stalled = false;
  private _state: CoreState = 'off';
  private readonly host: SimulationHost;

  /** @internal created by the machine. */
  constructor(machine: Machine, index: number, host: SimulationHost) {
    this.machine = machine;
    this.index = index;
    this.host = host;
    this.apic = new LocalApic(this, host);
    this.stats = host.coreStats ? new CoreStats() : null;
  }

  get state(): CoreState {
    return this._state;
  }

  /** Power the core on running `program`. Throws if it is already on or the machine is off. */
  start(program: CoreProgram): void {
    if (!this.machine.poweredOn) {
      throw new Error(`cannot start core ${this.index}: machine '${this.machine.name}' is powered off`);
    }
    if (this._state !== 'off') {
      throw new Error(`core ${this.index} of machine '${this.machine.name}' is already started`);
    }
    this._program = program;
    this._state = 'running';
    this.host.scheduler._addRunnable(this);
  }

  /**
   * Make a halted core runnable (software calls this after queuing work for it). If the core is
   * inside its slice, the wake is remembered so that a 'halt' returned by that slice does not
   * sleep. No effect on a core that is off.
   */
  wake(): void {
    if (this._state === 'halted') {
      this._state = 'running';
      this.host.scheduler._addRunnable(this);
    } else if (this._state === 'running' && this._inSlice) {
      this._wakeLatched = true;
    }
  }

  /** Power the core off. Pending interrupts and its APIC timer are discarded. */
  stop(): void {
    if (this._state === 'running') this.host.scheduler._removeRunnable(this);
    this._state = 'off';
    this._program = null;
    this.apic._reset();
  }

  /** @internal the APIC just raised a vector. */
  _interruptRaised(): void {
    // Mid-slice raises need no latch: the halt decision re-checks the APIC.
    if (this._state === 'halted') this.wake();
  }

  /** @internal the scheduler saw the slice return 'halt' with nothing pending. */
  _halt(): void {
    this._state = 'halted';
    this.host.scheduler._removeRunnable(this);
  }
}
