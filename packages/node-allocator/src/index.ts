// @ebbrt/node-allocator: the NodeAllocator Ebb (README.md).
export { manifest } from './manifest.js';
export { nodeAllocatorOptionsSchema, type NodeAllocatorOptions } from './options.js';
export { NodeAllocatorRoot } from './root.js';
export { NodeAllocatorRep } from './rep.js';
export { NodeAllocatorService, type AllocatorStats } from './allocator.js';
export { DormantPool, type PoolStats } from './dormant-pool.js';
