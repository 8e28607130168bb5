/** The simple allocator's adapter to the kit's allocator harness (16-byte granules, no per-core caches). */
import { bootAllocatorNode, type AllocatorHarness, type AllocatorMachineSpec } from '@ebbrt/testkit/allocator';
import { manifest, type SimpleRoot } from '../src/index.js';

export const GRANULE = 16;

export function makeHarness(spec: AllocatorMachineSpec = {}): AllocatorHarness & { root: SimpleRoot } {
  const { machine, node, root, on } = bootAllocatorNode<SimpleRoot>(manifest, spec);
  return {
    machine,
    node,
    root,
    on,
    drain: () => root.drain(),
    snapshot: () => root.allocator.freeSnapshot(),
    liveIOBufs: () => root.liveIOBufs(),
    alignmentOf: () => GRANULE,
    footprint: (size) => Math.max(GRANULE, Math.ceil(size / GRANULE) * GRANULE),
  };
}
