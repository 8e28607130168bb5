/** @ebbrt/memory-allocator-simple — a deliberately simple first-fit MemoryAllocator (SLQB's baseline). */
export { manifest, simpleOptionsSchema, type SimpleOptions } from './manifest.js';
export { SimpleRoot } from './root.js';
export { SimpleAllocator } from './simple-allocator.js';
export { FreeList } from './free-list.js';
