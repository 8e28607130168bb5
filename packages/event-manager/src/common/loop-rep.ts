import { setCurrentCore, type CoreContext } from '@ebbrt/core-translation';
import type { CorePromise, EventFn, EventManager, IdleHandle, IOBuf, SpawnOptions } from '@ebbrt/interfaces';
import { UsageError } from '@ebbrt/interfaces';
import { AppCount } from './app-count.js';
import { corePromise } from './core-promise.js';
import type { EventReports } from './event-stats.js';
import { TaskQueue } from './task-queue.js';
import { VectorTable } from './vectors.js';

/** What a per-core loop needs from its node-wide root. */
export interface LoopRoot {
  readonly reports: EventReports;
  readonly watchdogBudgetUs: number | undefined;
  post(core: number, fn: EventFn): void;
  totalEvents(): number;
  /** Records a finished event in the trace (no-op when tracing is off). */
  traceEvent(core: number, eventId: number, fn: EventFn): void;
}

/**
 * EbbRT's per-core event loop state and the EventManager interface, shared by
 * the native (simulated core) and hosted (Node loop) targets. The targets
 * differ only in how a core is entered and how a sleeping core is woken.
 */
export abstract class LoopRep implements EventManager {
  readonly core: number;
  protected readonly tasks = new TaskQueue();
  protected readonly vectors = new VectorTable();
  protected idle: (() => void) | undefined = undefined;
  private idleToken: object | undefined = undefined;
  private dispatched = 0;
  private nextEventId = 1;
  private runningEventId = 0;
  /** Nesting depth of dispatch (a synchronous spawn runs inside its parent). */
  private depth = 0;
  /** Inside runSlice/turn, between enter() and leave(). */
  private inTurn = false;
  /** Wall clock (ms) when the previous top-level event of this turn ended. */
  private clockMark = 0;
  /** The application-wide count (getNum) over the Messenger. */
  readonly appCount: AppCount;
  /**
   * Blocked (unfinished async) events by id, oldest first (a Map keeps insertion order). Null
   * until a live view first asks (trackUnfinished): a run nobody watches pays one null test per
   * async event.
   */
  private unfinished: Map<number, { readonly fn: EventFn; readonly sinceNs: number }> | null = null;

  constructor(
    protected readonly root: LoopRoot,
    readonly context: CoreContext,
  ) {
    this.core = context.index;
    this.appCount = new AppCount(
      context,
      () => root.totalEvents(),
      (core, fn) => this.spawnRemote(fn, core),
    );
  }

  /** Makes sure this core will run its loop again soon (it may be asleep). */
  protected abstract wake(): void;

  spawn(fn: EventFn, options?: SpawnOptions): void {
    if (options?.async === true) {
      this.tasks.push(fn);
      this.wake();
    } else {
      this.dispatch(fn);
    }
  }

  spawnRemote(fn: EventFn, core: number): void {
    if (core === this.core) this.spawn(fn, { async: true });
    else this.root.post(core, fn);
  }

  allocateVector(handler: () => void): number {
    return this.vectors.allocate(handler);
  }

  freeVector(vector: number): void {
    this.vectors.free(vector);
  }

  setIdleCallback(fn: () => void): IdleHandle {
    if (this.idle !== undefined) {
      throw new UsageError(`core ${this.core} already has an idle callback; stop it before installing another`);
    }
    this.idle = fn;
    // Each install gets its own token, so a stale handle never stops a later
    // install (even of the same function).
    const token = {};
    this.idleToken = token;
    this.wake();
    return {
      stop: () => {
        if (this.idleToken !== token) return;
        this.idle = undefined;
        this.idleToken = undefined;
      },
    };
  }

  promise<T>(): CorePromise<T> {
    return corePromise<T>(this.context, (core, fn) => this.root.post(core, fn));
  }

  currentEventId(): number {
    return this.runningEventId;
  }

  getNumCore(): number {
    return this.dispatched;
  }

  getNumNode(): number {
    return this.root.totalEvents();
  }

  /**
   * Events dispatched across the whole application: this node's, plus every node the Messenger
   * knows, asked over the network (EbbRT's example of a distributed Ebb). Without a Messenger,
   * this node's. A peer that is dead or silent for 5 s counts as 0.
   */
  getNum(): Promise<number> {
    return this.appCount.getNum();
  }

  /** Messages for the Event Manager (the count protocol); the Messenger delivers them here. */
  receiveMessage(from: number, typeCode: number, message: IOBuf): void {
    this.appCount.receive(from, typeCode, message);
  }

  /**
   * Runs one event to completion (or until it blocks). Nested dispatch (a
   * synchronous spawn) restores the parent's event id afterwards.
   */
  dispatch(fn: EventFn): void {
    const parent = this.runningEventId;
    const id = this.nextEventId++;
    this.runningEventId = id;
    this.dispatched++;
    const budget = this.root.watchdogBudgetUs;
    // Back-to-back events of a loop turn share clock reads: one event's end is the next one's start.
    const chained = this.inTurn && this.depth === 0;
    const start = budget === undefined ? 0 : chained ? this.clockMark : performance.now();
    this.depth++;
    try {
      const result = fn() as { then?: unknown } | undefined;
      if (result != null && typeof result.then === 'function') {
        // Only blocked (async) events pay for this closure.
        const unfinished = this.unfinished;
        if (unfinished === null) (result as PromiseLike<unknown>).then(undefined, (error: unknown) => this.fail(id, error));
        else {
          unfinished.set(id, { fn, sinceNs: this.nowNs() });
          (result as PromiseLike<unknown>).then(
            () => void unfinished.delete(id),
            (error: unknown) => {
              unfinished.delete(id);
              this.fail(id, error);
            },
          );
        }
      }
    } catch (error) {
      this.fail(id, error);
    }
    this.depth--;
    if (budget !== undefined) {
      const end = performance.now();
      if (chained) this.clockMark = end;
      const elapsedUs = (end - start) * 1000;
      if (elapsedUs > budget) {
        this.root.reports.watchdog({
          node: this.context.node.id,
          core: this.core,
          eventId: id,
          name: fn.name || 'anonymous',
          elapsedUs,
          budgetUs: budget,
        });
        // The report's log line and listeners are not the next event's time: restart its clock
        // after them. Otherwise a slow listener (or a cold first report) gets the next event
        // reported too, however short it was.
        if (chained) this.clockMark = performance.now();
      }
    }
    this.root.traceEvent(this.core, id, fn);
    this.runningEventId = parent;
  }

  /** Simulation (or host) time in ns, for the ages of unfinished events. */
  protected abstract nowNs(): number;

  /**
   * The oldest event of this core that blocked and has not finished. The first call starts the
   * tracking: events blocked before it are not seen.
   */
  oldestUnfinishedEvent(): { id: number; name: string; sinceNs: number } | undefined {
    if (this.unfinished === null) {
      this.unfinished = new Map();
      return undefined;
    }
    for (const [id, e] of this.unfinished) return { id, name: e.fn.name || 'anonymous', sinceNs: e.sinceNs };
    return undefined;
  }

  /** Events waiting to start on this core (its queue; the native loop adds its mailbox). */
  get eventsQueued(): number {
    return this.tasks.length;
  }

  get eventsDispatched(): number {
    return this.dispatched;
  }

  /** Takes the next pending interrupt vector, or -1. */
  protected abstract nextInterrupt(): number;

  /** Delivers one interrupt vector as an event. */
  protected interrupt(vector: number): void {
    const handler = this.vectors.handler(vector);
    if (handler !== undefined) this.dispatch(handler);
  }

  private fail(eventId: number, error: unknown): void {
    this.root.reports.failure({ node: this.context.node.id, core: this.core, eventId, error });
  }

  /**
   * One iteration in EbbRT's order: every pending interrupt, then one queued
   * event, else the idle callback; 'empty' means the core may halt.
   */
  protected iterate(): 'ran' | 'idle' | 'empty' {
    for (let v = this.nextInterrupt(); v >= 0; v = this.nextInterrupt()) this.interrupt(v);
    const fn = this.tasks.shift();
    if (fn !== undefined) {
      this.dispatch(fn);
      return 'ran';
    }
    const idle = this.idle;
    if (idle !== undefined) {
      this.dispatch(idle);
      return 'idle';
    }
    return 'empty';
  }

  /** Makes this core current (models loading %gs on entry) and starts a loop turn. */
  protected enter(): void {
    setCurrentCore(this.context);
    this.inTurn = true;
    if (this.root.watchdogBudgetUs !== undefined) this.clockMark = performance.now();
  }

  /** Ends a loop turn: events dispatched from continuations afterwards time themselves. */
  protected leave(): void {
    this.inTurn = false;
  }

  /** True when an event is queued on this core. */
  protected hasQueuedWork(): boolean {
    return this.tasks.length > 0;
  }
}
