import type { EventManager } from '@ebbrt/interfaces';
import type { Core } from '@ebbrt/hw-x86sim';
import { TimerRep } from './timer-rep.js';

/** Timers on a simulated core, over its local APIC's one-shot timer. */
export class NativeTimer extends TimerRep {
  private readonly vector: number;

  constructor(
    events: EventManager,
    private readonly hw: Core,
  ) {
    super(events);
    this.vector = events.allocateVector(() => this.expire());
  }

  /** The machine's clock: simulation time, skewed and drifting under a core `clock` fault. */
  protected nowNs(): number {
    return this.hw.machine.clockNs();
  }

  protected arm(deadlineNs: number, background: boolean): void {
    if (deadlineNs === Infinity) this.hw.apic.timerStop();
    else this.hw.apic.timerOneShot(Math.max(0, deadlineNs - this.hw.machine.clockNs()), this.vector, background);
  }
}
