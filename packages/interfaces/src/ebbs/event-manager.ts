import type { EbbRoot, EventFn } from '../execution.js';


export interface SpawnOptions {
  /**
   * `false` (default): run now, nested in the caller; if the event blocks (awaits),
   * control returns to the caller, as EbbRT's Spawn hands back.
   * `true`: queue the event FIFO on this core; it runs after the caller's event.
   */
  async?: boolean;
}

/** Stops an idle callback. */
export interface IdleHandle {
  stop(): void;
}

/**
 * A promise bound to the core that created it. Resolving it from another core
 * resumes the waiter on its own core (EbbRT's SaveContext/ActivateContext), so
 * code after `await` always runs where it started.
 */
export interface CorePromise<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * EbbRT's per-core, non-preemptive event loop. One rep per core. Each loop
 * iteration runs pending interrupts, then one queued event, then (only when no
 * event is queued) the idle callback, then halts until an interrupt.
 */
export interface EventManager {
  /** Runs `fn` as an event on this core. See {@link SpawnOptions}. */
  spawn(fn: EventFn, options?: SpawnOptions): void;
  /** Queues `fn` on another core of this node (delivered by IPI). */
  spawnRemote(fn: EventFn, core: number): void;
  /** Allocates an interrupt vector on this core whose interrupts run `handler` as an event. */
  allocateVector(handler: () => void): number;
  /** Frees a vector allocated on this core. */
  freeVector(vector: number): void;
  /** Installs this core's idle callback. A second one on the same core is an error. */
  setIdleCallback(fn: () => void): IdleHandle;
  /** A promise whose waiter resumes on this core, whoever resolves it. */
  promise<T>(): CorePromise<T>;
  /** Id of the event running now on this core (increasing per core). */
  currentEventId(): number;
  /** Index of this rep's core. */
  readonly core: number;
  /** Events dispatched on this core. */
  getNumCore(): number;
  /** Events dispatched on every core of this node. */
  getNumNode(): number;
  /** Events dispatched across the whole application (this node until a Messenger is installed). */
  getNum(): Promise<number>;
}

/** An event that ended with an error: reported, counted, and never silently lost. */
export interface EventFailure {
  readonly node: number;
  readonly core: number;
  readonly eventId: number;
  readonly error: unknown;
}

/**
 * What the runtime (and other system Ebbs at boot) may do with an Event
 * Manager's root from outside any event: the seam through which the world
 * enters a node's cores.
 */
export interface EventManagerRoot extends EbbRoot<EventManager> {
  /** Queues `fn` as an event on `core` from anywhere, even outside any event (like an external IPI). */
  post(core: number, fn: EventFn): void;
  /** Events dispatched on every core of the node. */
  totalEvents(): number;
  /** Called for every event that throws or rejects. Defaults to printing on the node's console. */
  onEventFailure(listener: (failure: EventFailure) => void): void;
  /** Stops every core's loop (node shutdown). */
  shutdown(): void;
  /**
   * True when no event is queued or scheduled on any core (an idle callback does not count).
   * The runtime's front-end bridge asks it under the virtual clock: the simulation stays frozen
   * while the front-end works on what a node sent it. Absent: treated as always quiescent.
   */
  quiescent?(): boolean;
}
