/** The MemoryAllocator contract and the node harness each allocator package adapts to it. */
export { allocatorContract } from './allocator-contract.js';
export { bootAllocatorNode, type AllocatorHarness, type AllocatorMachineSpec, type AllocatorNode, type MakeAllocatorHarness } from './allocator-node.js';
