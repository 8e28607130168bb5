import type { CoreContext } from '@ebbrt/core-translation';
import type { Core, SliceResult } from '@ebbrt/hw-x86sim';
import { LoopRep, type LoopRoot } from '../common/loop-rep.js';
import type { TaskQueue } from '../common/task-queue.js';
import { REMOTE_EVENT_VECTOR } from '../common/vectors.js';

/** What the native loop needs beyond the common root. */
export interface NativeLoopRoot extends LoopRoot {
  mailbox(core: number): TaskQueue;
  readonly sliceBudget: number;
  /** Simulation time (ns). */
  now(): number;
}

/**
 * The event loop of one simulated core. The scheduler enters it through
 * `runSlice`; it runs up to `sliceBudget` loop iterations, then yields so other
 * cores get a turn, or halts when there is nothing to do.
 */
export class NativeEventManager extends LoopRep {
  constructor(
    protected override readonly root: NativeLoopRoot,
    context: CoreContext,
    private readonly hw: Core,
  ) {
    super(root, context);
    // What a live view reads of this core, at snapshot time only (see hw-x86sim's CoreStats).
    if (hw.stats !== null) hw.stats.software = this;
  }

  protected nowNs(): number {
    return this.root.now();
  }

  /** The core's queue plus the remote events in its mailbox not yet taken. */
  override get eventsQueued(): number {
    return super.eventsQueued + this.root.mailbox(this.core).length;
  }

  protected wake(): void {
    this.hw.wake();
  }

  protected nextInterrupt(): number {
    return this.hw.apic.nextPending();
  }

  protected override interrupt(vector: number): void {
    if (vector === REMOTE_EVENT_VECTOR) this.root.mailbox(this.core).drainInto(this.tasks);
    else super.interrupt(vector);
  }

  runSlice(): SliceResult {
    this.enter();
    try {
      const budget = this.root.sliceBudget;
      for (let i = 0; i < budget; i++) {
        const step = this.iterate();
        if (step === 'empty') return 'halt';
        // Only the idle callback ran: the core polls. Let time move (see hw-x86sim 'poll').
        if (step === 'idle' && !this.hasQueuedWork() && !this.hw.apic.hasPending()) return 'poll';
      }
      return 'yield';
    } finally {
      this.leave();
    }
  }
}
