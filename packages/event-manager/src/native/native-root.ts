import { cpu, setCurrentCore, type CoreContext, type NodeContext } from '@ebbrt/core-translation';
import type { EbbId, EventFailure, EventFn, EventManager, EventManagerRoot, CoreInfo } from '@ebbrt/interfaces';
import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import { EventReports, type WatchdogReport } from '../common/event-stats.js';
import type { EventManagerOptions } from '../common/options.js';
import { TaskQueue } from '../common/task-queue.js';
import { REMOTE_EVENT_VECTOR } from '../common/vectors.js';
import { NativeEventManager, type NativeLoopRoot } from './native-rep.js';

/**
 * Node-wide part of the native Event Manager: one loop per simulated core,
 * started at install, and one mailbox per core for remote spawns (EbbRT's
 * per-core remote event queue, signalled by an IPI).
 */
export class NativeEventManagerRoot implements EventManagerRoot, NativeLoopRoot {
  readonly reports: EventReports;
  readonly watchdogBudgetUs: number | undefined;
  readonly sliceBudget: number;
  private readonly mailboxes: TaskQueue[];
  private readonly reps: (NativeEventManager | undefined)[];
  private readonly tracePid: number;

  constructor(
    private readonly node: NodeContext,
    private readonly id: EbbId,
    private readonly machine: Machine,
    private readonly simulation: Simulation,
    options: EventManagerOptions,
    log: (line: string) => void,
  ) {
    if (machine.cores.length < node.numCores) {
      throw new RangeError(`node ${node.id} has ${node.numCores} cores but its machine has ${machine.cores.length}`);
    }
    this.reports = new EventReports(log);
    this.watchdogBudgetUs = options.watchdogBudgetUs;
    this.sliceBudget = options.sliceBudget;
    this.mailboxes = Array.from({ length: node.numCores }, () => new TaskQueue());
    this.reps = new Array(node.numCores).fill(undefined);
    this.tracePid = machine.tracePid;
    for (let i = 0; i < node.numCores; i++) {
      const context = node.core(i);
      machine.cores[i]!.start({
        runSlice: () => this.repOn(context).runSlice(),
        // Off the CPU, nothing runs as this core: hardware callbacks see no current core.
        leftCpu: () => {
          if (cpu.current === context) setCurrentCore(undefined);
        },
      });
    }
  }

  handleFault(core: CoreInfo): EventManager {
    const context = this.node.core(core.index);
    const rep = new NativeEventManager(this, context, this.machine.cores[core.index]!);
    this.reps[core.index] = rep;
    return rep;
  }

  /** The rep of a core, made through the node's translation so it faults once. */
  private repOn(context: CoreContext): NativeEventManager {
    return (this.reps[context.index] ??
      (context.translation.get(this.id) as NativeEventManager | undefined) ??
      this.node.fault(this.id, context)) as NativeEventManager;
  }

  now(): number {
    return this.simulation.now();
  }

  mailbox(core: number): TaskQueue {
    return this.mailboxes[core]!;
  }

  post(core: number, fn: EventFn): void {
    const mailbox = this.mailboxes[core];
    if (mailbox === undefined) {
      throw new RangeError(`post: node ${this.node.id} has no core ${core} (it has ${this.node.numCores})`);
    }
    mailbox.push(fn);
    this.machine.cores[core]!.apic.raise(REMOTE_EVENT_VECTOR);
  }

  totalEvents(): number {
    let total = 0;
    for (const rep of this.reps) if (rep !== undefined) total += rep.getNumCore();
    return total;
  }

  traceEvent(core: number, eventId: number, fn: EventFn): void {
    const trace = this.simulation.trace;
    if (trace.enabled) {
      trace.complete(this.tracePid, core, fn.name || 'event', this.simulation.now(), 0, { id: eventId });
    }
  }

  onEventFailure(listener: (failure: EventFailure) => void): void {
    this.reports.onFailure(listener);
  }

  onWatchdog(listener: (report: WatchdogReport) => void): void {
    this.reports.onWatchdog(listener);
  }

  shutdown(): void {
    for (const core of this.machine.cores) core.stop();
  }
}
