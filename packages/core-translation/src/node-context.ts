import {
  IdSpaceError,
  SystemEbbIds,
  UnknownEbbError,
  UsageError,
  type EbbId,
  type EbbRoot,
  type NodeInfo,
  type Target,
} from '@ebbrt/interfaces';
import { CoreContext } from './core-context.js';
import { EbbAllocator } from './ebb-allocator.js';
import { LocalIdMap } from './local-id-map.js';

export interface NodeOptions {
  /** Network id: 0 for the front-end, distinct for each back-end. */
  id: number;
  numCores: number;
  target: Target;
  /** Global id space; may also be set later, when the front-end hands it over. */
  idSpace?: number;
}

/**
 * Called on a translation miss for an id with no local root, before giving up.
 * The distributed runtime uses it to build a root from the GlobalIdMap or on
 * message arrival for an Ebb this node has never seen.
 */
export type MissHandler = (id: EbbId, node: NodeContext) => EbbRoot<unknown> | undefined;

/**
 * Software state of a node: its cores, LocalIdMap and EbbAllocator. Nothing in
 * here is process-wide, so any number of nodes share a process.
 */
export class NodeContext implements NodeInfo {
  readonly id: number;
  readonly numCores: number;
  readonly target: Target;
  readonly cores: readonly CoreContext[];
  readonly localIdMap = new LocalIdMap();
  readonly ebbAllocator: EbbAllocator;
  private readonly staticNames = new Map<EbbId, string>();
  private missHandler: MissHandler | undefined;

  constructor(options: NodeOptions) {
    if (!Number.isInteger(options.numCores) || options.numCores < 1) {
      throw new RangeError(`NodeContext: numCores must be a positive integer, got ${options.numCores}`);
    }
    this.id = options.id;
    this.numCores = options.numCores;
    this.target = options.target;
    this.ebbAllocator = new EbbAllocator(options.idSpace);
    this.cores = Array.from({ length: options.numCores }, (_, i) => new CoreContext(this, i));
    // LocalIdMap and EbbAllocator are static shared Ebbs: every core sees them without a fault.
    this.cacheOnEveryCore(SystemEbbIds.LocalIdMap, this.localIdMap);
    this.cacheOnEveryCore(SystemEbbIds.EbbAllocator, this.ebbAllocator);
  }

  core(index: number): CoreContext {
    const core = this.cores[index];
    if (core === undefined) {
      throw new RangeError(`node ${this.id} has no core ${index} (it has ${this.numCores})`);
    }
    return core;
  }

  /** Installs an Ebb's root under `id`; reps are made on first use per core. */
  install(id: EbbId, root: EbbRoot<unknown>): void {
    this.localIdMap.set(id, root);
  }

  /** Installs a static user Ebb under its name-derived id, detecting hash collisions by name. */
  installStatic(name: string, id: EbbId, root: EbbRoot<unknown>): void {
    const holder = this.staticNames.get(id);
    if (holder !== undefined && holder !== name) {
      throw new IdSpaceError(
        `static EbbId 0x${id.toString(16)} of "${name}" collides with "${holder}"; rename one of them`,
      );
    }
    // Install first: a failed install must not leave `name` recorded as the holder.
    this.install(id, root);
    this.staticNames.set(id, name);
  }

  /** Caches `rep` for `id` on every core now, so no core ever faults on it. */
  cacheOnEveryCore(id: EbbId, rep: unknown): void {
    for (const core of this.cores) core.translation.set(id, rep);
  }

  setMissHandler(handler: MissHandler | undefined): void {
    if (handler !== undefined && this.missHandler !== undefined) {
      throw new UsageError(`node ${this.id} already has a miss handler`);
    }
    this.missHandler = handler;
  }

  /**
   * Serves a translation miss on `core`: asks the root for a rep and caches it,
   * so each core calls the fault handler once. A throwing handler caches nothing
   * and the error reaches the caller.
   */
  fault(id: EbbId, core: CoreContext): unknown {
    let root = this.localIdMap.get(id);
    if (root === undefined && this.missHandler !== undefined) {
      root = this.missHandler(id, this);
      if (root !== undefined && !this.localIdMap.has(id)) this.localIdMap.set(id, root);
    }
    if (root === undefined) throw new UnknownEbbError(id, this.id);
    const rep = root.handleFault(core);
    core.translation.set(id, rep);
    core.faults++;
    return rep;
  }

  toString(): string {
    return `node ${this.id}`;
  }
}

/**
 * The NodeContext behind a NodeInfo handed to an Ebb factory. Factories get the
 * interface type; those that need the translation layer's node ask for it here.
 */
export function nodeContextOf(info: NodeInfo): NodeContext {
  if (!(info instanceof NodeContext)) {
    throw new TypeError(`node ${info.id} is not a NodeContext from @ebbrt/core-translation`);
  }
  return info;
}
