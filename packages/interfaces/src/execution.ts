import type { EbbId } from './ids.js';
import type { NodePlatform } from './ebbs/node-allocator.js';

/** Where a node runs: on a simulated machine (`native`) or inside the Node.js front-end (`hosted`). */
export type Target = 'native' | 'hosted';

/** What every Ebb may know about the node it lives on. */
export interface NodeInfo {
  /** The node's network id; 0 for the front-end. */
  readonly id: number;
  readonly numCores: number;
  readonly target: Target;
}

/** What every Ebb may know about the core a rep is made for. */
export interface CoreInfo {
  /** Index of this core within its node, 0-based. */
  readonly index: number;
  readonly node: NodeInfo;
}

/**
 * The node-wide part of an Ebb: installed in the node's LocalIdMap under the
 * Ebb's id. A translation miss on a core calls `handleFault` exactly once for
 * that core; the returned rep is cached in the core's translation table.
 */
export interface EbbRoot<Rep> extends EbbLifecycle {
  handleFault(core: CoreInfo): Rep;
}

/**
 * What the runtime does with any root across its node's life. Both are optional because most
 * Ebbs live wholly inside the simulation and have nothing to do; the runtime calls them on every
 * installed root, so a root that holds something outside (a host socket, a listener) declares it
 * here instead of the runtime knowing the package.
 */
export interface EbbLifecycle {
  /** Called once every system Ebb of the node is installed and its cores run events. Idempotent. */
  start?(): void;
  /**
   * Called when the node stops (the application ended, the node was freed), in reverse install
   * order: release what lives outside the simulation (host sockets, listeners). Idempotent; no
   * callbacks into the node follow it.
   */
  stop?(): void;
}

/** An event body. Returning a promise means the event blocked; it resumes on the same core. */
export type EventFn = () => unknown;

/**
 * Seeded fault decisions and their accounting, handed to an Ebb by the runtime on a simulated
 * node: the Ebb draws from its own stream (so its faults replay by seed and never shift anyone
 * else's draws) and counts each fault it injects (the simulation's fault log: `--stats`, a
 * `fault: <kind>` trace instant on the node).
 */
export interface FaultSink {
  /** A stream of uniform draws in [0, 1) for `label` on this node, the same for the same seed. */
  stream(label: string): { next(): number };
  /** Counts one fault of `kind` on this node (the calling core), with details for the trace. */
  record(kind: string, args?: Record<string, string | number | boolean>): void;
}

/** Data passed to an Ebb implementation's factory when a node installs it. */
export interface EbbInstallContext {
  /** The id the Ebb is installed under (a well-known system id for system Ebbs). */
  readonly id: EbbId;
  readonly node: NodeInfo;
  readonly target: Target;
  /**
   * Native only: the `@ebbrt/hw-x86sim` Machine this node runs on, and its Simulation.
   * Typed `unknown` here because `interfaces` depends on no hardware; packages that
   * drive hardware import the type from `@ebbrt/hw-x86sim`.
   */
  readonly machine?: unknown;
  readonly simulation?: unknown;
  /** Front-end only: where back-end nodes come from (the NodeAllocator's seam). */
  readonly platform?: NodePlatform;
  /** Simulated nodes only: where an Ebb that injects faults draws and counts them. */
  readonly faults?: FaultSink;
  /** Writes a line on the node's console, labelled `boot` during boot and by this Ebb (and core) after it. */
  log(line: string): void;
}
