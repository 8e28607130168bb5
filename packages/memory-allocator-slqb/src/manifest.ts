import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type EbbInstallContext, type MemoryAllocator } from '@ebbrt/interfaces';
import { Machine } from '@ebbrt/hw-x86sim';
import { slqbOptionsSchema, type SlqbOptions } from './options.js';
import { SlqbRoot } from './root.js';

/** The simulated machine a native install context names, checked. */
function nativeMachine(context: EbbInstallContext): Machine {
  if (!(context.machine instanceof Machine)) {
    throw new TypeError(`node ${context.node.id}: @ebbrt/memory-allocator-slqb needs a hw-x86sim Machine (native target)`);
  }
  return context.machine;
}

/** The default MemoryAllocator for native nodes: buddy pages + per-core SLQB slab caches. */
export const manifest = defineEbbManifest<SlqbOptions, MemoryAllocator>({
  name: '@ebbrt/memory-allocator-slqb',
  implements: 'MemoryAllocator',
  targets: ['native'],
  description: 'NUMA-aware buddy page allocator with per-core SLQB slab caches and IOBufs over physical memory',
  options: slqbOptionsSchema,
  create(context, options) {
    return new SlqbRoot(nodeContextOf(context.node), context.id, nativeMachine(context), slqbOptionsSchema.parse(options ?? {}));
  },
});
