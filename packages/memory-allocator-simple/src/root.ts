import { SharedRoot, type NodeContext } from '@ebbrt/core-translation';
import type { AllocatorStats, EbbId, LiveIOBuf, MemoryAllocatorRoot } from '@ebbrt/interfaces';
import type { Machine } from '@ebbrt/hw-x86sim';
import { SimpleAllocator } from './simple-allocator.js';

/** One SimpleAllocator per node, shared by every core (no per-core state at all). */
export class SimpleRoot extends SharedRoot<SimpleAllocator> implements MemoryAllocatorRoot {
  readonly allocator: SimpleAllocator;

  constructor(node: NodeContext, id: EbbId, machine: Machine, reserveBytes: number) {
    const allocator = new SimpleAllocator(machine, reserveBytes);
    super(node, id, () => allocator);
    this.allocator = allocator;
  }

  /** Nothing is cached per core, so there is nothing to drain; kept for a uniform test/bench API. */
  drain(): void {}

  stats(): AllocatorStats {
    return this.allocator.stats();
  }

  liveIOBufs(): LiveIOBuf[] {
    return this.allocator.liveIOBufs();
  }
}
