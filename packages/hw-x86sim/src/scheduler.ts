import { hostDrain, queueMacrotask, type DrainJobs } from './macrotask.js';
import type { Clock } from './clock.js';
import type { Core } from './core.js';
import type { DeadlineQueue } from './event-queue.js';
import type { Prng } from './prng.js';
import type { TraceRecorder } from './trace.js';

/** Why `Simulation.run` returned. */
export type StopReason = 'quiescent' | 'stopped' | 'until' | 'max-slices';

/** Options of `Simulation.run`. */
export interface RunOptions {
  /** Stop once simulation time reaches this (ns). Under a virtual clock, time is left at exactly this. */
  untilNs?: number;
  /** Stop before running more than this many core slices. */
  maxSlices?: number;
  /** Aborting it stops the run like `Simulation.stop()`. */
  signal?: AbortSignal;
  /**
   * End the run when nothing is runnable and no deadline is pending. Default: true for a virtual
   * clock; false for realtime, where Node I/O may still `post` events (the run then lasts until
   * `stop()`, `untilNs` or `signal`).
   */
  stopWhenIdle?: boolean;
}

/** What `Simulation.run` resolves to. */
export interface RunResult {
  /** Core slices run by this call. */
  slices: number;
  /** Simulation time (ns) when it returned. */
  finalTimeNs: number;
  reason: StopReason;
}

/**
 * How the scheduler gets from one step to the next.
 * - `chained` (the default where the host allows it): steps run back to back inside one
 *   macrotask, with the host's job queues (every microtask and `process.nextTick` callback)
 *   drained synchronously between two steps, exactly as Node drains them between two
 *   `setImmediate` callbacks. A chain ends after a bounded number of steps (see CHAIN_STEPS_*),
 *   so the host loop still serves its I/O and timers.
 * - `macrotask`: every step is a macrotask of its own (`setImmediate`, or a `MessageChannel`
 *   message in a browser). What a browser tab gets, since it has no synchronous drain.
 * Both run the same JS in the same order inside the simulation, so a seed gives the same trace
 * under either; only where host callbacks (I/O, timers) interleave with steps differs.
 */
export type SteppingMode = 'chained' | 'macrotask';

/**
 * How many step macrotasks are queued at once in `macrotask` mode. Each still gets its own
 * microtask drain (Node drains microtasks after every setImmediate callback), but immediates
 * queued together run in one event-loop check phase, which measured ~5x cheaper per step than
 * re-queueing one at a time.
 */
const STEP_BATCH = 32;

/**
 * Steps one macrotask may chain before the host loop gets a turn. Realtime runs keep the 32 steps
 * per loop iteration that `macrotask` mode gives (STEP_BATCH immediates share one check phase), so
 * host I/O is served as often as before; virtual runs have no host I/O that simulated time waits
 * for, so they chain longer.
 */
const CHAIN_STEPS_REALTIME = STEP_BATCH;
const CHAIN_STEPS_VIRTUAL = 256;

/** Realtime waits shorter than this are polled rather than left to a (1 ms) timer. */
const SHORT_WAIT_NS = 1_000_000;

/**
 * @internal The only thing that enters a core.
 *
 * Each step does exactly one of: deliver hardware events (posted callbacks and due deadlines), run
 * one core slice, or move time. Between steps the host's microtask and nextTick queues are drained
 * completely (by the host between two macrotasks, or by the scheduler itself inside a chain: see
 * SteppingMode), so every async continuation started by a slice runs before any other core is
 * entered — software can keep a process-wide "current core" register set by its runSlice.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly queue: DeadlineQueue;
  private readonly prng: Prng;
  private readonly trace: TraceRecorder;
  /** Runnable cores; order is deterministic (swap-remove), the PRNG picks among them. */
  private readonly runnable: Core[] = [];
  /** The core whose slice ran last and has not yet been told it left the CPU. */
  private onCpu: Core | null = null;
  /** Cores that returned 'poll': asleep until some other activity happens. */
  private pollers: Core[] = [];
  private posted: Array<() => void> = [];
  private postedSpare: Array<() => void> = [];

  private running = false;
  private stopRequested = false;
  private untilNs = Infinity;
  private maxSlices = Infinity;
  private stopWhenIdle = true;
  /** Outside work (the front-end booting a node, say) that will post into the run: not quiescent yet. */
  private holds = 0;
  /** Outside work that takes no simulated time (the front-end serving a node): nothing steps. */
  private frozen = 0;
  private slices = 0;
  private signal: AbortSignal | undefined;
  private resolveRun: ((r: RunResult) => void) | null = null;
  private rejectRun: ((e: unknown) => void) | null = null;

  private queuedSteps = 0;
  /** The host's synchronous job drain in `chained` mode; null in `macrotask` mode. */
  private readonly drain: DrainJobs | null;
  private idleWaiting = false;
  private waitTimer: ReturnType<typeof setTimeout> | null = null;
  /** Slices run over the scheduler's lifetime. */
  totalSlices = 0;
  /** While true, each slice's host time is added to its core's stats (two clock reads a slice). */
  sampleCores = false;

  /** Pause state (virtual clock only): see pause(). */
  private paused = false;
  /** A step found the run paused and queued nothing more: resume() or step() must restart it. */
  private parked = false;
  /** Slices still to run before a paused run parks again (set by stepSlices). */
  private stepCredits = 0;

  private readonly onImmediate = (): void => {
    this.queuedSteps--;
    // Leftovers of a batch are no-ops once the run ended, while waiting for time/I/O or parked.
    if (!this.running || this.idleWaiting || this.parked) return;
    this.pump();
  };
  private readonly onWaitOver = (): void => {
    this.waitTimer = null;
    this.idleWaiting = false;
    if (this.running) this.pump();
  };
  private readonly onAbort = (): void => this.stop();

  constructor(clock: Clock, queue: DeadlineQueue, prng: Prng, trace: TraceRecorder, stepping: SteppingMode = 'chained') {
    if (stepping !== 'chained' && stepping !== 'macrotask') {
      throw new RangeError(`stepping must be 'chained' or 'macrotask', got ${String(stepping)}`);
    }
    this.clock = clock;
    this.queue = queue;
    this.prng = prng;
    this.trace = trace;
    this.drain = stepping === 'chained' ? hostDrain() : null;
  }

  /** The mode in effect: `chained` falls back to `macrotask` on a host without a job drain. */
  get stepping(): SteppingMode {
    return this.drain === null ? 'macrotask' : 'chained';
  }

  get isRunning(): boolean {
    return this.running;
  }

  _addRunnable(core: Core): void {
    if (core._runIndex >= 0 || core._stalled) return;
    core._runIndex = this.runnable.length;
    this.runnable.push(core);
    // A realtime run idling until the next deadline must notice a core woken by outside code.
    if (this.idleWaiting) this.endIdleWait();
  }

  _removeRunnable(core: Core): void {
    const i = core._runIndex;
    if (i < 0) return;
    const last = this.runnable.pop()!;
    if (last !== core) {
      this.runnable[i] = last;
      last._runIndex = i;
    }
    core._runIndex = -1;
  }

  post(fn: () => void): void {
    if (typeof fn !== 'function') throw new TypeError('post() needs a function');
    this.posted.push(fn);
    if (this.idleWaiting) this.endIdleWait();
  }

  /**
   * Keeps an idle run from ending as quiescent until the returned release is called (idempotent):
   * for outside work that will post into the simulation later. Time still jumps to deadlines.
   */
  hold(): () => void {
    this.holds++;
    return this.releaseOnce(() => --this.holds);
  }

  /**
   * Stops the world until the returned release is called (idempotent): no hardware event runs, no
   * core is entered and time does not move. For outside work whose answer must land at the very
   * simulated instant it was asked for (a front-end serving a node's request), whatever it costs
   * on the host. Nested freezes stack; posts made meanwhile run once the last is released.
   */
  freeze(): () => void {
    this.frozen++;
    return this.releaseOnce(() => --this.frozen);
  }

  /**
   * The release of a hold or a freeze: idempotent; `decrement` drops its count and returns what
   * is left. The last one out ends an idle wait, so the run looks again at once.
   */
  private releaseOnce(decrement: () => number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (decrement() === 0 && this.idleWaiting) this.endIdleWait();
    };
  }

  get isFrozen(): boolean {
    return this.frozen > 0;
  }

  stop(): void {
    if (!this.running) return;
    this.stopRequested = true;
    if (this.idleWaiting) this.endIdleWait();
    this.unpark();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Stops entering cores and moving time at the next step, until resume() (virtual clock only: a
   * realtime clock keeps running with the wall). Pausing only delays steps, never reorders them,
   * so a paused-and-resumed run makes the same trace as one never paused. Holds across runs.
   */
  pause(): void {
    if (this.clock.kind !== 'virtual') {
      throw new Error('pause needs a virtual clock: under the realtime clock simulation time follows the wall clock');
    }
    this.paused = true;
    this.stepCredits = 0;
  }

  resume(): void {
    this.paused = false;
    this.stepCredits = 0;
    this.unpark();
  }

  /**
   * While paused: run until `n` more core slices have run (delivering hardware events and moving
   * virtual time on the way, exactly as an unpaused run would), then park again.
   */
  stepSlices(n = 1): void {
    if (!this.paused) throw new Error('step needs a paused simulation (call pause() first)');
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`step: slice count must be an integer >= 1, got ${String(n)}`);
    this.stepCredits += n;
    this.unpark();
  }

  private unpark(): void {
    if (!this.parked) return;
    this.parked = false;
    if (this.running) this.continueLater();
  }

  run(options: RunOptions = {}): Promise<RunResult> {
    if (this.running) return Promise.reject(new Error('Simulation.run: a run is already in progress'));
    const { untilNs, maxSlices, signal } = options;
    if (untilNs !== undefined && (typeof untilNs !== 'number' || Number.isNaN(untilNs))) {
      return Promise.reject(new RangeError(`run option 'untilNs' must be a number, got ${String(untilNs)}`));
    }
    if (maxSlices !== undefined && (!Number.isInteger(maxSlices) || maxSlices < 0)) {
      return Promise.reject(new RangeError(`run option 'maxSlices' must be an integer >= 0, got ${String(maxSlices)}`));
    }
    this.untilNs = untilNs ?? Infinity;
    this.maxSlices = maxSlices ?? Infinity;
    this.stopWhenIdle = options.stopWhenIdle ?? this.clock.kind === 'virtual';
    this.slices = 0;
    this.stopRequested = false;
    this.running = true;
    return new Promise<RunResult>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
      if (signal !== undefined) {
        this.signal = signal;
        if (signal.aborted) this.stopRequested = true;
        else signal.addEventListener('abort', this.onAbort, { once: true });
      }
      // Never enter a core synchronously from run(): the caller's own continuations come first.
      this.continueLater();
    });
  }

  /**
   * Runs steps until the run ends, waits, parks or has used its chain budget. In `chained` mode
   * the host's job queues are drained between two steps, inside this macrotask: every
   * continuation of a slice (however deep its chain of awaits, ticks and microtasks) has run
   * before the next step, as it would between two macrotasks, so the "current core" that
   * software set in runSlice is still right in each of them. A chain never starts from inside a
   * microtask (only onImmediate and onWaitOver call this), where the drain could not run.
   */
  private pump(): void {
    const drain = this.drain;
    if (drain === null) {
      if (this.step()) this.continueLater();
      return;
    }
    let left = this.clock.kind === 'virtual' ? CHAIN_STEPS_VIRTUAL : CHAIN_STEPS_REALTIME;
    while (this.step()) {
      if (--left === 0) return this.continueLater();
      try {
        drain();
      } catch (err) {
        // A throwing nextTick callback: as between two immediates, it is the host's uncaught
        // exception (not this run's failure), and the rest of the queues drain in later turns.
        this.continueLater();
        throw err;
      }
      // Only a step ends a run, waits or parks, and those return false: nothing in the drain
      // can make the next step wrong to take now (stop() and pause() are seen by that step).
    }
  }

  /** One step; true when another step should follow (the caller chains it or queues it). */
  private step(): boolean {
    try {
      this.leaveCpu();
      if (this.stopRequested) return this.finish('stopped');
      if (this.frozen > 0) {
        // Waits like an idle realtime run: post() and the last release step again.
        this.idleWaiting = true;
        return false;
      }
      if (this.paused && this.stepCredits === 0) {
        this.parked = true;
        return false;
      }
      const clock = this.clock;
      const now = clock.now();
      if (now >= this.untilNs) return this.finish('until');
      if (this.runHardwareEvents(now)) {
        this.wakePollers();
        return true;
      }

      const n = this.runnable.length;
      if (n > 0) {
        if (this.slices >= this.maxSlices) return this.finish('max-slices');
        const core = n === 1 ? this.runnable[0] : this.runnable[this.prng.nextInt(n)];
        this.runSlice(core, now);
        return true;
      }

      const next = this.queue.peekDeadline();
      if (clock.kind === 'virtual') {
        if (next > this.untilNs) {
          // Nothing happens before untilNs (only possible when it is finite): jump there.
          clock.advanceTo(this.untilNs);
          return this.finish('until');
        }
        // Only background entries left (watchdog ticks): quiescent if the run stops when idle; with
        // a hold, wait for the outside work rather than tick through virtual time meanwhile.
        const onlyBackground = this.queue.foreground === 0 && (this.holds > 0 || this.stopWhenIdle);
        if (next === Infinity || onlyBackground) {
          if (this.stopWhenIdle && this.holds === 0) return this.finish('quiescent');
          this.waitIdle(Infinity);
          return false;
        }
        clock.advanceTo(next);
        this.runHardwareEvents(next);
        this.wakePollers();
        return true;
      }
      if ((next === Infinity || this.queue.foreground === 0) && this.stopWhenIdle && this.holds === 0) return this.finish('quiescent');
      this.waitIdle(Math.min(next, this.untilNs) - now);
      return false;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Posted callbacks (FIFO), then deadlines due by `now` (in (deadline, seq) order). */
  private runHardwareEvents(now: number): boolean {
    let ran = false;
    if (this.posted.length > 0) {
      // Swap buffers so callbacks may post more (they run next step) without allocation.
      const batch = this.posted;
      this.posted = this.postedSpare;
      this.postedSpare = batch;
      try {
        for (let i = 0; i < batch.length; i++) batch[i]();
      } finally {
        batch.length = 0;
      }
      ran = true;
    }
    for (;;) {
      const due = this.queue.popDue(now);
      if (due === undefined) break;
      due.fn();
      ran = true;
    }
    return ran;
  }

  private runSlice(core: Core, startNs: number): void {
    const program = core._program!;
    this.onCpu = core;
    core._inSlice = true;
    core._wakeLatched = false;
    this.slices++;
    this.totalSlices++;
    if (this.stepCredits > 0) this.stepCredits--;
    const stats = core.stats;
    if (stats !== null) stats.slices++;
    const t0 = this.sampleCores ? performance.now() : 0;
    let result;
    try {
      result = program.runSlice(core);
    } finally {
      core._inSlice = false;
      if (t0 !== 0 && stats !== null) stats.busyHostMs += performance.now() - t0;
    }
    if (this.trace.enabled) {
      this.trace.complete(core.machine.tracePid, core.index, 'slice', startNs, this.clock.now() - startNs);
    }
    const stall = core.machine._stall;
    if (stall !== null && stall.prng.chance(stall.probability)) this.stallCore(core, 1 + stall.prng.nextInt(stall.maxNs));
    if (result === 'poll') {
      if (core.state === 'running' && !core._wakeLatched && !core.apic.hasPending()) {
        core._halt();
        this.pollers.push(core);
      }
      return;
    }
    if (result !== 'halt' && result !== 'yield') {
      throw new TypeError(
        `runSlice of core ${core.index} on machine '${core.machine.name}' returned ${String(result)}; expected 'halt', 'yield' or 'poll'`,
      );
    }
    // hlt with an interrupt already pending (or a wake during the slice) falls straight through.
    if (result === 'halt' && core.state === 'running' && !core._wakeLatched && !core.apic.hasPending()) core._halt();
    // A slice that did work may have produced what a polling core is waiting for.
    this.wakePollers();
  }

  /**
   * A stall fault (an SMI): the core leaves the runnable list for `durationNs` whatever it is
   * asked to do meanwhile (wakes, interrupts are remembered and honoured when it ends).
   */
  private stallCore(core: Core, durationNs: number): void {
    core._stalled = true;
    this._removeRunnable(core);
    const m = core.machine;
    m._recordFault('core.stall', core.index, { durationNs });
    this.queue.push(this.clock.now() + durationNs, () => {
      core._stalled = false;
      if (core.state === 'running') this._addRunnable(core);
    });
  }

  /** Lets every polling core look again (in poll order, so replay stays deterministic). */
  private wakePollers(): void {
    if (this.pollers.length === 0) return;
    const pollers = this.pollers;
    this.pollers = [];
    for (const core of pollers) core.wake();
  }

  private continueLater(): void {
    if (this.queuedSteps > 0) return;
    // A chain does its own batching: one macrotask starts the next chain.
    const n = this.drain === null ? STEP_BATCH : 1;
    for (let k = 0; k < n; k++) queueMacrotask(this.onImmediate);
    this.queuedSteps = n;
  }

  private waitIdle(delayNs: number): void {
    // Node's timers have 1 ms granularity, far coarser than a link's latency or a driver's poll
    // period: a realtime wait shorter than that polls instead (Node still serves I/O between
    // steps), so simulated time keeps up with the wall clock to the microsecond. Such a poll
    // always goes through the host loop, never a chain: the I/O it waits for comes from there.
    if (delayNs < SHORT_WAIT_NS) {
      this.continueLater();
      return;
    }
    this.idleWaiting = true;
    if (delayNs !== Infinity) {
      this.waitTimer = setTimeout(this.onWaitOver, Math.max(0, Math.ceil(delayNs / 1e6)));
    }
  }

  private endIdleWait(): void {
    this.idleWaiting = false;
    if (this.waitTimer !== null) {
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
    }
    if (this.running) this.continueLater();
  }

  /** Tells the program of the last core entered that it has left the CPU (see CoreProgram.leftCpu). */
  private leaveCpu(): void {
    const core = this.onCpu;
    if (core === null) return;
    this.onCpu = null;
    core._program?.leftCpu?.(core);
  }

  private cleanup(): void {
    this.leaveCpu();
    this.running = false;
    this.idleWaiting = false;
    this.parked = false;
    if (this.waitTimer !== null) {
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
    }
    if (this.signal !== undefined) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.signal = undefined;
    }
    this.resolveRun = null;
    this.rejectRun = null;
  }

  private finish(reason: StopReason): false {
    const resolve = this.resolveRun!;
    const result: RunResult = { slices: this.slices, finalTimeNs: this.clock.now(), reason };
    this.cleanup();
    resolve(result);
    return false;
  }

  private fail(err: unknown): void {
    const reject = this.rejectRun!;
    this.cleanup();
    reject(err);
  }
}
