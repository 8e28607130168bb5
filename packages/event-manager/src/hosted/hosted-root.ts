import type { NodeContext } from '@ebbrt/core-translation';
import type { CoreInfo, EbbId, EventFailure, EventFn, EventManager, EventManagerRoot } from '@ebbrt/interfaces';
import { EventReports, type WatchdogReport } from '../common/event-stats.js';
import type { EventManagerOptions } from '../common/options.js';
import { TaskQueue } from '../common/task-queue.js';
import { queueMacrotask } from '@ebbrt/hw-x86sim';
import { HostedEventManager, type HostedLoopRoot } from './hosted-rep.js';

/**
 * Node-wide part of the hosted Event Manager (the front-end). A "core" here is a
 * logical event loop multiplexed onto Node's single thread; each core's turn is
 * its own macrotask so its microtasks drain before another core is entered.
 */
export class HostedEventManagerRoot implements EventManagerRoot, HostedLoopRoot {
  readonly reports: EventReports;
  readonly watchdogBudgetUs: number | undefined;
  readonly sliceBudget: number;
  private readonly mailboxes: TaskQueue[];
  private readonly vectors: number[][];
  private readonly reps: (HostedEventManager | undefined)[];
  private readonly scheduled: (true | undefined)[];
  private readonly turns: (() => void)[];
  private stopped = false;

  constructor(
    private readonly node: NodeContext,
    private readonly id: EbbId,
    options: EventManagerOptions,
    log: (line: string) => void,
  ) {
    this.reports = new EventReports(log);
    this.watchdogBudgetUs = options.watchdogBudgetUs;
    this.sliceBudget = options.sliceBudget;
    const n = node.numCores;
    this.mailboxes = Array.from({ length: n }, () => new TaskQueue());
    this.vectors = Array.from({ length: n }, () => []);
    this.reps = new Array(n).fill(undefined);
    this.scheduled = new Array(n).fill(undefined);
    this.turns = Array.from({ length: n }, (_, i) => () => this.runTurn(i));
  }

  handleFault(core: CoreInfo): EventManager {
    const rep = new HostedEventManager(this, this.node.core(core.index));
    this.reps[core.index] = rep;
    return rep;
  }

  private repOn(index: number): HostedEventManager {
    const context = this.node.core(index);
    return (this.reps[index] ??
      (context.translation.get(this.id) as HostedEventManager | undefined) ??
      this.node.fault(this.id, context)) as HostedEventManager;
  }

  mailbox(core: number): TaskQueue {
    return this.mailboxes[core]!;
  }

  pendingVectors(core: number): number[] {
    return this.vectors[core]!;
  }

  /** Raises a software interrupt vector on a hosted core (used by hosted device shims). */
  raise(core: number, vector: number): void {
    this.checkCore(core);
    this.vectors[core]!.push(vector);
    this.schedule(core);
  }

  schedule(core: number): void {
    if (this.stopped || this.scheduled[core] !== undefined) return;
    this.scheduled[core] = true;
    queueMacrotask(this.turns[core]!);
  }

  private runTurn(core: number): void {
    this.scheduled[core] = undefined;
    if (this.stopped) return;
    if (this.repOn(core).turn()) this.schedule(core);
  }

  post(core: number, fn: EventFn): void {
    this.checkCore(core);
    this.mailboxes[core]!.push(fn);
    this.schedule(core);
  }

  quiescent(): boolean {
    for (let i = 0; i < this.mailboxes.length; i++) {
      if (this.mailboxes[i]!.length > 0 || this.vectors[i]!.length > 0) return false;
      const rep = this.reps[i];
      if (rep !== undefined && rep.eventsQueued > 0) return false;
    }
    return true;
  }

  totalEvents(): number {
    let total = 0;
    for (const rep of this.reps) if (rep !== undefined) total += rep.getNumCore();
    return total;
  }

  traceEvent(): void {
    // The front-end is not on the simulated timeline; its events are not traced.
  }

  onEventFailure(listener: (failure: EventFailure) => void): void {
    this.reports.onFailure(listener);
  }

  onWatchdog(listener: (report: WatchdogReport) => void): void {
    this.reports.onWatchdog(listener);
  }

  shutdown(): void {
    this.stopped = true;
    // A turn already queued still runs, finds `stopped` and returns.
    for (let i = 0; i < this.scheduled.length; i++) this.scheduled[i] = undefined;
  }

  private checkCore(core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.node.numCores) {
      throw new RangeError(`node ${this.node.id} has no core ${core} (it has ${this.node.numCores})`);
    }
  }
}
