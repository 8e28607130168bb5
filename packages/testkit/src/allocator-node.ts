/**
 * One node on a simulated machine with a MemoryAllocator installed through its manifest, as the
 * runtime would, and the uniform handle the allocator contract drives. Each allocator package
 * adapts its own root to `AllocatorHarness` (snapshot, drain, alignment), so the contract knows
 * no implementation.
 */
import { EbbRef, NodeContext, runOnCore } from '@ebbrt/core-translation';
import { Simulation, type Machine } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EbbInstallContext, type EbbManifest, type EbbRoot, type LiveIOBuf, type MemoryAllocator } from '@ebbrt/interfaces';

export interface AllocatorMachineSpec {
  cores?: number;
  memoryBytes?: number;
  numaNodes?: number;
  /** Raw allocator options, parsed by the manifest's schema. */
  options?: Record<string, unknown>;
}

export interface AllocatorHarness {
  readonly machine: Machine;
  readonly node: NodeContext;
  /** Runs `fn` as core `core` with that core's allocator rep. */
  on<R>(core: number, fn: (a: MemoryAllocator) => R): R;
  /** Returns every per-core cache to the shared pools (a no-op where nothing is cached). */
  drain(): void;
  /** Comparable picture of all free memory. */
  snapshot(): unknown;
  liveIOBufs(): readonly LiveIOBuf[];
  /** Alignment the allocator promises for a request of `size` bytes. */
  alignmentOf(size: number): number;
  /** Bytes an allocation of `size` really occupies (for overlap checks). */
  footprint(size: number): number;
}

export type MakeAllocatorHarness = (spec: AllocatorMachineSpec) => AllocatorHarness;

export interface AllocatorNode<Root> {
  readonly machine: Machine;
  readonly node: NodeContext;
  readonly root: Root;
  on<R>(core: number, fn: (a: MemoryAllocator) => R): R;
}

/** Boots a machine and a native node (id 1) and installs `manifest`'s root as the MemoryAllocator. */
export function bootAllocatorNode<Root extends EbbRoot<unknown>, Options = unknown>(
  manifest: EbbManifest<Options, MemoryAllocator>,
  spec: AllocatorMachineSpec = {},
): AllocatorNode<Root> {
  const sim = new Simulation();
  const cores = spec.cores ?? 4;
  const machine = sim.createMachine({ cores, memoryBytes: spec.memoryBytes ?? 16 << 20, numaNodes: spec.numaNodes ?? 1 });
  const node = new NodeContext({ id: 1, numCores: cores, target: 'native' });
  const context: EbbInstallContext = {
    id: SystemEbbIds.MemoryAllocator,
    node,
    target: 'native',
    machine,
    simulation: sim,
    log: () => {},
  };
  if (manifest.options === undefined) throw new Error(`${manifest.name}: the manifest has no options schema`);
  const made = manifest.create(context, manifest.options.parse(spec.options ?? {}));
  // The runtime awaits an async create; an allocator is needed before anything can await, so ours are synchronous.
  if (made instanceof Promise) throw new Error(`${manifest.name}: create() returned a promise; a MemoryAllocator root must be built synchronously`);
  const root = made as Root;
  node.install(context.id, root);
  const ref = new EbbRef<MemoryAllocator>(context.id);
  return { machine, node, root, on: (core, fn) => runOnCore(node.core(core), () => fn(ref.deref())) };
}
