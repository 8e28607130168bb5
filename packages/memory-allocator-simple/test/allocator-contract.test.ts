/** The kit's MemoryAllocator contract against the simple first-fit allocator. */
import { allocatorContract } from '@ebbrt/testkit/allocator';
import { makeHarness } from './harness.js';

allocatorContract('simple', makeHarness);
