/** The kit's MemoryAllocator contract against SLQB (default caches, and tiny ones that flush constantly). */
import { allocatorContract } from '@ebbrt/testkit/allocator';
import { makeHarness } from './harness.js';

allocatorContract('slqb', makeHarness);
// Tiny per-core caches: every few frees flush to slabs or send a remote batch.
allocatorContract('slqb', makeHarness, { highWaterMark: 4, batchSize: 2 });
