/**
 * @ebbrt/memory-allocator-slqb — EbbRT's default native MemoryAllocator: a
 * NUMA-aware buddy page allocator, SLQB per-core slab caches by size class,
 * malloc/free over simulated physical memory and IOBufs backed by it.
 */
export { manifest } from './manifest.js';
export { SlqbRoot, type SlqbRootOptions } from './root.js';
export { SlqbAllocator } from './allocator-rep.js';
export { slqbOptionsSchema, type SlqbOptions, type SlqbOptionsInput } from './options.js';
export type { SlqbAllocatorStats, SlqbCacheStats } from './stats.js';
export type { LeakReport } from './iobuf-backing.js';
export type { BuddySnapshot } from './buddy.js';
export { BuddyAllocator } from './buddy.js';
export { CLASS_SIZES, PAGE_SIZE, MAX_SLAB_OBJECT, SizeClassTable, slabOrderFor, classAlignment } from './size-classes.js';
export { MAX_ORDER } from './page-allocator.js';
