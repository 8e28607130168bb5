import type { CoreContext } from '@ebbrt/core-translation';
import { LoopRep, type LoopRoot } from '../common/loop-rep.js';
import type { TaskQueue } from '../common/task-queue.js';

export interface HostedLoopRoot extends LoopRoot {
  mailbox(core: number): TaskQueue;
  pendingVectors(core: number): number[];
  schedule(core: number): void;
  readonly sliceBudget: number;
}

/**
 * A front-end core's event loop on Node's own event loop. Each turn is one
 * macrotask (setImmediate): Node drains microtasks after it, so continuations
 * of events run with this core current before anything else is entered.
 */
export class HostedEventManager extends LoopRep {
  constructor(
    protected override readonly root: HostedLoopRoot,
    context: CoreContext,
  ) {
    super(root, context);
  }

  /** Host time: a hosted loop has no simulated clock of its own. */
  protected nowNs(): number {
    return Math.floor(performance.now() * 1e6);
  }

  protected wake(): void {
    this.root.schedule(this.core);
  }

  protected nextInterrupt(): number {
    const pending = this.root.pendingVectors(this.core);
    return pending.length === 0 ? -1 : pending.shift()!;
  }

  /** One turn of the loop; returns true if it should run again soon. */
  turn(): boolean {
    this.enter();
    try {
      this.root.mailbox(this.core).drainInto(this.tasks);
      const budget = this.root.sliceBudget;
      for (let i = 0; i < budget; i++) {
        const step = this.iterate();
        if (step === 'empty') return false;
        if (step === 'idle') return true;
      }
      return true;
    } finally {
      this.leave();
    }
  }
}
