import { DeadlineEntry } from './event-queue.js';
import type { Core } from './core.js';
import type { SimulationHost } from './host.js';

/**
 * A core's local APIC: a 256-bit interrupt request register, IPIs, and the APIC timer.
 *
 * Raising a vector that is already pending coalesces with it (one IRR bit per vector, as on x86).
 * Delivery is by polling: the scheduler runs a core that has a pending vector, and software asks
 * `nextPending()` from its slice.
 */
export class LocalApic {
  private readonly core: Core;
  private readonly host: SimulationHost;
  /** IRR: bit v of word v>>5 set when vector v is pending. */
  private readonly irr = new Uint32Array(8);
  private pendingCount = 0;

  private timerMode: 'off' | 'one-shot' | 'periodic' = 'off';
  private timerVector = 0;
  private timerPeriodNs = 0;
  // One entry reused for every arm: re-arming a periodic timer allocates nothing.
  private readonly timerEntry: DeadlineEntry;

  /** @internal created by the machine. */
  constructor(core: Core, host: SimulationHost) {
    this.core = core;
    this.host = host;
    this.timerEntry = new DeadlineEntry(() => this.onTimerDeadline());
  }

  /**
   * Mark `vector` (0..255) pending and wake the core if it is halted. Under an `interruptDelay`
   * core fault the vector may arrive 1..maxNs ns later instead (a `core.interrupt-late` fault).
   */
  raise(vector: number): void {
    checkVector(vector);
    const late = this.core.machine._interruptDelay;
    if (late !== null && late.prng.chance(late.probability)) {
      const delayNs = 1 + late.prng.nextInt(late.maxNs);
      this.host.faults.record('core.interrupt-late', { pid: this.core.machine.tracePid, tid: this.core.index }, { vector, delayNs });
      this.host.queue.push(this.host.clock.now() + delayNs, () => {
        if (this.core.state !== 'off') this.deliver(vector);
      });
      return;
    }
    this.deliver(vector);
  }

  private deliver(vector: number): void {
    const word = vector >>> 5;
    const bit = 1 << (vector & 31);
    if ((this.irr[word] & bit) === 0) {
      this.irr[word] |= bit;
      this.pendingCount++;
    }
    this.core._interruptRaised();
  }

  /** True if any vector is pending. */
  hasPending(): boolean {
    return this.pendingCount > 0;
  }

  /** Take the highest pending vector (x86 priority: higher vector first), or -1 if none. */
  nextPending(): number {
    if (this.pendingCount === 0) return -1;
    const irr = this.irr;
    for (let word = 7; word >= 0; word--) {
      const w = irr[word];
      if (w !== 0) {
        const bit = 31 - Math.clz32(w);
        irr[word] = w & ~(1 << bit);
        this.pendingCount--;
        return (word << 5) | bit;
      }
    }
    return -1;
  }

  /** Raise `vector` on core `targetCoreIndex` of the same machine (delivery is immediate). */
  sendIpi(targetCoreIndex: number, vector: number): void {
    const cores = this.core.machine.cores;
    const target = cores[targetCoreIndex];
    if (!Number.isInteger(targetCoreIndex) || target === undefined) {
      throw new RangeError(
        `IPI target core ${targetCoreIndex} does not exist on machine '${this.core.machine.name}' (${cores.length} cores)`,
      );
    }
    target.apic.raise(vector);
  }

  /**
   * Raise `vector` once, `delayNs` from now (counted by the machine's clock). Replaces any armed
   * timer. A `background` deadline keeps no virtual-time run alive (see event-queue.ts).
   */
  timerOneShot(delayNs: number, vector: number, background = false): void {
    checkDelay(delayNs, 'delayNs', 0);
    checkVector(vector);
    this.timerMode = 'one-shot';
    this.timerVector = vector;
    this.host.queue.arm(this.timerEntry, this.host.clock.now() + this.core.machine._simDelay(delayNs), background);
  }

  /**
   * Raise `vector` every `periodNs`, first one period from now. Deadlines are computed from the
   * previous deadline, not from when it fired, so the timer never drifts. Replaces any armed timer.
   */
  timerPeriodic(periodNs: number, vector: number, background = false): void {
    checkDelay(periodNs, 'periodNs', 1);
    checkVector(vector);
    this.timerMode = 'periodic';
    this.timerVector = vector;
    this.timerPeriodNs = this.core.machine._simDelay(periodNs);
    this.host.queue.arm(this.timerEntry, this.host.clock.now() + this.timerPeriodNs, background);
  }

  /** Disarm the timer; an armed deadline will not fire. */
  timerStop(): void {
    this.timerMode = 'off';
    this.host.queue.cancel(this.timerEntry);
  }

  /** @internal power-off: forget pending interrupts and the timer. */
  _reset(): void {
    this.timerStop();
    this.irr.fill(0);
    this.pendingCount = 0;
  }

  private onTimerDeadline(): void {
    if (this.timerMode === 'periodic') {
      this.host.queue.arm(this.timerEntry, this.timerEntry.deadlineNs + this.timerPeriodNs);
    } else {
      this.timerMode = 'off';
    }
    this.raise(this.timerVector);
  }
}

function checkVector(vector: number): void {
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) {
    throw new RangeError(`interrupt vector must be an integer in 0..255, got ${vector}`);
  }
}

function checkDelay(ns: number, field: string, min: number): void {
  if (!Number.isInteger(ns) || ns < min) {
    throw new RangeError(`${field} must be an integer number of nanoseconds >= ${min}, got ${ns}`);
  }
}
