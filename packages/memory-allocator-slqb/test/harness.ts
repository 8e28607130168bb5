/**
 * Test harness: boots one node on a simulated machine with either allocator
 * installed through its manifest (as the runtime would), and gives tests a
 * uniform handle: act as core i, drain caches, snapshot the page allocator.
 */
import { EbbRef, NodeContext, runOnCore } from '@ebbrt/core-translation';
import { Simulation, type Machine } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EbbInstallContext, type MemoryAllocator } from '@ebbrt/interfaces';
import { manifest as simpleManifest, type SimpleRoot } from '@ebbrt/memory-allocator-simple';
import { manifest as slqbManifest, CLASS_SIZES, SizeClassTable, classAlignment, type SlqbRoot } from '../src/index.js';

export interface MachineSpec {
  cores?: number;
  memoryBytes?: number;
  numaNodes?: number;
  options?: Record<string, unknown>;
}

export interface Harness {
  readonly kind: 'slqb' | 'simple';
  readonly machine: Machine;
  readonly node: NodeContext;
  on<R>(core: number, fn: (a: MemoryAllocator) => R): R;
  drain(): void;
  /** Comparable picture of all free memory. */
  snapshot(): unknown;
  liveIOBufs(): { address: number; size: number }[];
  /** Alignment the allocator promises for a request of `size` bytes. */
  alignmentOf(size: number): number;
  /** Bytes an allocation of `size` really occupies (for overlap checks). */
  footprint(size: number): number;
}

export type AllocatorKind = 'slqb' | 'simple';

const classes = new SizeClassTable();

function boot(spec: MachineSpec) {
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
  return { machine, node, context };
}

export function makeHarness(kind: AllocatorKind, spec: MachineSpec = {}): Harness {
  const { machine, node, context } = boot(spec);
  const ref = new EbbRef<MemoryAllocator>(context.id);
  const on = <R>(core: number, fn: (a: MemoryAllocator) => R): R => runOnCore(node.core(core), () => fn(ref.deref()));
  if (kind === 'slqb') {
    const root = slqbManifest.create(context, slqbManifest.options!.parse(spec.options ?? {})) as SlqbRoot;
    node.install(context.id, root);
    return {
      kind,
      machine,
      node,
      on,
      drain: () => root.drain(),
      snapshot: () => root.pageSnapshot(),
      liveIOBufs: () => root.liveIOBufs(),
      alignmentOf: (size) => {
        const c = classes.classOf(Math.max(1, size));
        return c < 0 ? 4096 : classAlignment(CLASS_SIZES[c]);
      },
      footprint: (size) => {
        const c = classes.classOf(Math.max(1, size));
        return c < 0 ? Math.ceil(size / 4096) * 4096 : CLASS_SIZES[c];
      },
    };
  }
  const root = simpleManifest.create(context, simpleManifest.options!.parse(spec.options ?? {})) as SimpleRoot;
  node.install(context.id, root);
  return {
    kind,
    machine,
    node,
    on,
    drain: () => root.drain(),
    snapshot: () => root.allocator.freeSnapshot(),
    liveIOBufs: () => root.allocator.liveIOBufs(),
    alignmentOf: () => 16,
    footprint: (size) => Math.max(16, Math.ceil(size / 16) * 16),
  };
}

export function slqbRoot(h: Harness): SlqbRoot {
  return h.node.localIdMap.get(SystemEbbIds.MemoryAllocator) as SlqbRoot;
}
