/**
 * SLQB's adapter to the kit's allocator harness: a node with SLQB installed through its manifest,
 * plus what the contract needs to know about SLQB (size-class alignment and footprint, the page
 * snapshot, draining the per-core caches).
 */
import { SystemEbbIds } from '@ebbrt/interfaces';
import { bootAllocatorNode, type AllocatorHarness, type AllocatorMachineSpec } from '@ebbrt/testkit/allocator';
import { manifest, CLASS_SIZES, SizeClassTable, classAlignment, type SlqbRoot } from '../src/index.js';

export type Harness = AllocatorHarness;
export type MachineSpec = AllocatorMachineSpec;

const classes = new SizeClassTable();

export function makeHarness(spec: MachineSpec = {}): Harness {
  const { machine, node, root, on } = bootAllocatorNode<SlqbRoot>(manifest, spec);
  return {
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

export function slqbRoot(h: Harness): SlqbRoot {
  return h.node.localIdMap.get(SystemEbbIds.MemoryAllocator) as SlqbRoot;
}
