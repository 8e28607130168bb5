import { Clock, type ClockKind } from './clock.js';
import { DeadlineQueue, type DeadlineEntry } from './event-queue.js';
import { FaultLog } from './fault-log.js';
import type { SimulationHost } from './host.js';
import { Machine } from './machine.js';
import { defaultGuestMemoryKind, type GuestMemoryKind, type PhysicalMemory } from './memory.js';
import type { MemoryRecycler } from './memory-recycler.js';
import type { MachineConfig } from './machine-config.js';
import { Prng } from './prng.js';
import { Scheduler, type RunOptions, type RunResult, type SteppingMode } from './scheduler.js';
import { TraceRecorder } from './trace.js';

/** Options of `new Simulation(...)`. */
export interface SimulationOptions {
  /** PRNG seed, integer in [0, 2^32). Default 1. */
  seed?: number;
  /** Default `virtual`. */
  clock?: ClockKind;
  /** Record a Chrome trace (see `Simulation.trace`). Default false. */
  trace?: boolean;
  /** Where serial console lines go besides each machine's history. Default `silent`. */
  console?: 'stdout' | 'silent';
  /**
   * Give every core CoreStats counters (`core.stats`). Default true; they are plain integer
   * bumps. `false` exists so a bench can measure what they cost.
   */
  coreStats?: boolean;
  /**
   * Take machines' memory from this recycler, and give it all back with `recycleMemory()` once
   * the simulation is over (a seed runner's next seed boots on it). Default: fresh buffers.
   */
  memory?: MemoryRecycler;
  /**
   * Where machines' guest memory lives (`GuestMemoryKind`): `shared` (SharedArrayBuffer, which V8
   * does not count as external memory, so booting machines brings on no collections) or `private`
   * (ArrayBuffer). Default `defaultGuestMemoryKind()`: `shared` on Node, `private` in a browser.
   */
  guestMemory?: GuestMemoryKind;
  /**
   * How the scheduler moves between steps (see SteppingMode). Default `chained`: steps run back to
   * back in one macrotask with the host's job queues drained between them, where the host has such a
   * drain (Node); otherwise, and with `macrotask`, each step is its own macrotask. Both give the same
   * trace for a seed; `macrotask` exists to show that, and to measure what chaining saves.
   */
  stepping?: SteppingMode;
}

function guestMemoryOption(kind: GuestMemoryKind | undefined): GuestMemoryKind {
  if (kind === undefined) return defaultGuestMemoryKind();
  if (kind !== 'shared' && kind !== 'private') throw new RangeError(`guestMemory must be 'shared' or 'private', got ${String(kind)}`);
  if (kind === 'shared' && typeof SharedArrayBuffer !== 'function') {
    throw new RangeError("guestMemory 'shared' needs SharedArrayBuffer, which this host lacks (a browser page that is not cross-origin isolated): use 'private'");
  }
  return kind;
}

/**
 * A world of simulated machines sharing one clock, one deadline queue and one scheduler.
 * Independent simulations may coexist in one process.
 */
export class Simulation {
  readonly seed: number;
  readonly clockKind: ClockKind;
  /**
   * Root PRNG. Components fork their own stream from it (`sim.prng.fork('fabric')`); forks
   * depend only on the seed and label, so adding a component never changes others' streams.
   */
  readonly prng: Prng;
  readonly trace: TraceRecorder;
  /** Every fault injected into this simulation: counts by kind and trace instants (see FaultLog). */
  readonly faults: FaultLog;
  private readonly clock: Clock;
  private readonly queue = new DeadlineQueue();
  private readonly scheduler: Scheduler;
  private readonly host: SimulationHost;
  private readonly _machines: Machine[] = [];
  private nextMachineId = 0;
  /** Every machine memory taken from options.memory, destroyed machines' too: recycleMemory() returns them. */
  private readonly memories: PhysicalMemory[] = [];
  private recycled = false;

  constructor(options: SimulationOptions = {}) {
    const seed = options.seed ?? 1;
    this.seed = seed;
    this.prng = new Prng(seed);
    this.clockKind = options.clock ?? 'virtual';
    this.clock = new Clock(this.clockKind);
    this.trace = new TraceRecorder(options.trace ?? false);
    this.faults = new FaultLog(this.trace, () => this.clock.now());
    const consoleMode = options.console ?? 'silent';
    if (consoleMode !== 'stdout' && consoleMode !== 'silent') {
      throw new RangeError(`console must be 'stdout' or 'silent', got ${String(consoleMode)}`);
    }
    this.scheduler = new Scheduler(this.clock, this.queue, this.prng.fork('scheduler'), this.trace, options.stepping ?? 'chained');
    this.host = {
      clock: this.clock,
      queue: this.queue,
      scheduler: this.scheduler,
      trace: this.trace,
      consoleToStdout: consoleMode === 'stdout',
      coreStats: options.coreStats ?? true,
      faults: this.faults,
      prng: this.prng,
      memory: options.memory,
      guestMemory: guestMemoryOption(options.guestMemory),
    };
  }

  /** Current simulation time in integer nanoseconds. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Realtime clock only: the Unix time (integer ms) at which simulation time 0 was, read once when
   * the simulation was created (pass it to `PcapWriter`'s `epochOriginMs`). Undefined with a
   * virtual clock, whose time is replayable and means nothing on a calendar.
   */
  get wallClockOriginMs(): number | undefined {
    return this.clock.epochOriginMs;
  }

  /** Machines present, in creation order (ids are never reused; destroyed ones are gone). */
  get machines(): readonly Machine[] {
    return this._machines;
  }

  /** The stepping mode in effect (`chained` asked for on a host without a job drain is `macrotask`). */
  get stepping(): SteppingMode {
    return this.scheduler.stepping;
  }

  /** Core slices run since the simulation was created. */
  get totalSlices(): number {
    return this.scheduler.totalSlices;
  }

  /** Build a machine. Throws naming the field if the config is invalid. */
  createMachine(config: MachineConfig): Machine {
    if (this.recycled) throw new Error('createMachine: this simulation gave its memory back (recycleMemory): it is over');
    const m = new Machine(this.nextMachineId++, config, this.host);
    this._machines.push(m);
    if (this.host.memory !== undefined) this.memories.push(m.memory);
    return m;
  }

  /**
   * The simulation is over: every machine's memory goes back to the recycler it came from
   * (SimulationOptions.memory), for another simulation's machines. Nothing may read or write this
   * simulation's memory afterwards (the buffers are zeroed and reused); machines can no longer be
   * created. Does nothing without a recycler; idempotent.
   */
  recycleMemory(): void {
    const recycler = this.host.memory;
    if (recycler === undefined || this.recycled) return;
    this.recycled = true;
    for (const m of this._machines) m.powerOff();
    for (const memory of this.memories.splice(0)) recycler.give(memory.bytes.buffer);
  }

  /**
   * Powers a machine off and removes it, so its memory can be reclaimed once nothing else holds
   * it (the platform also unplugs its NIC from the network). Idempotent.
   */
  destroyMachine(machine: Machine): void {
    const i = this._machines.indexOf(machine);
    if (i < 0) return;
    machine.powerOff();
    this._machines.splice(i, 1);
  }

  /**
   * Call `fn` (a hardware event: it must not run guest software directly, only raise interrupts,
   * fill memory, wake cores) when simulation time reaches `atNs`. Times in the past mean "now".
   * Callbacks due at the same time fire in scheduling order.
   */
  schedule(atNs: number, fn: () => void): DeadlineEntry {
    if (typeof atNs !== 'number' || Number.isNaN(atNs) || atNs === Infinity) {
      throw new RangeError(`schedule: atNs must be a finite number of nanoseconds, got ${String(atNs)}`);
    }
    const now = this.clock.now();
    return this.queue.push(atNs < now ? now : Math.ceil(atNs), fn);
  }

  /** `schedule(now() + delayNs, fn)`. */
  scheduleAfter(delayNs: number, fn: () => void): DeadlineEntry {
    if (typeof delayNs !== 'number' || !(delayNs >= 0) || delayNs === Infinity) {
      throw new RangeError(`scheduleAfter: delayNs must be a finite number >= 0, got ${String(delayNs)}`);
    }
    return this.schedule(this.clock.now() + delayNs, fn);
  }

  /** Cancel a scheduled callback. Returns false if it already fired or was cancelled. */
  cancel(handle: DeadlineEntry): boolean {
    return this.queue.cancel(handle);
  }

  /**
   * Queue a hardware event from outside the simulation (a Node socket callback, a test). It runs
   * between core slices, at the current simulation time, before the next slice; it also wakes a
   * realtime run that is idle. Safe to call from any Node callback.
   */
  post(fn: () => void): void {
    this.scheduler.post(fn);
  }

  /**
   * Run the simulation: until quiescent (virtual clock: nothing runnable, no deadline), `stop()`,
   * `untilNs`, `maxSlices` or `signal`. Only one run at a time.
   */
  run(options?: RunOptions): Promise<RunResult> {
    return this.scheduler.run(options);
  }

  /** Make the current run return (reason `stopped`) before its next step. No-op when not running. */
  stop(): void {
    this.scheduler.stop();
  }

  /**
   * Keeps a run from ending as quiescent while outside work (e.g. the front-end booting a node)
   * will still post into it; call the returned function when that work is done.
   */
  hold(): () => void {
    return this.scheduler.hold();
  }

  /**
   * Stops the world (no hardware event, no core slice, no time) until the returned release is
   * called: outside work that must take no simulated time, e.g. the front-end serving a node's
   * offload request under the virtual clock, so its answer lands at the instant it was asked for
   * and the trace stays the same by seed however long the host took. Nested freezes stack.
   */
  freeze(): () => void {
    return this.scheduler.freeze();
  }

  get frozen(): boolean {
    return this.scheduler.isFrozen;
  }

  /**
   * Time each core's slices on the host (into `core.stats.busyHostMs`): two clock reads a slice,
   * so it is off unless a live view asks. It never touches simulation state or the trace.
   */
  get sampleCores(): boolean {
    return this.scheduler.sampleCores;
  }

  set sampleCores(on: boolean) {
    this.scheduler.sampleCores = on;
  }

  /**
   * Virtual clock only: stop entering cores and moving time (at the next scheduler step) until
   * `resume()`. A run stays in progress while paused. Pausing never changes what runs or in what
   * order, so the trace of a paused, stepped and resumed run equals an unpaused one's. Throws
   * under a realtime clock.
   */
  pause(): void {
    this.scheduler.pause();
  }

  /** Undoes `pause()`. No-op when not paused. */
  resume(): void {
    this.scheduler.resume();
  }

  /** While paused: let exactly `n` (default 1) more core slices run, then stay paused. */
  step(n?: number): void {
    this.scheduler.stepSlices(n);
  }

  get paused(): boolean {
    return this.scheduler.isPaused;
  }

  /** True while `run()` is in progress. */
  get running(): boolean {
    return this.scheduler.isRunning;
  }
}
