/** Stats assembly: turns the reps' counters into the interface's CacheStats/AllocatorStats. */
import type { AllocatorStats, CacheStats } from '@ebbrt/interfaces';
import type { NodeMemory } from './node-memory.js';

/** CacheStats plus the SLQB-specific queues, so tests can see where a free went. */
export interface SlqbCacheStats extends CacheStats {
  /** Objects on this rep's local LIFO list. */
  readonly localFree: number;
  /** Objects currently waiting on this rep's remote-free list. */
  readonly remoteQueued: number;
  /** Objects this core freed for other owners and has not sent yet. */
  readonly pendingOutgoing: number;
  /** Objects this core has freed for other owners since creation. */
  readonly remoteFreesSent: number;
  readonly partialSlabs: number;
}

export interface SlqbAllocatorStats extends AllocatorStats {
  readonly caches: readonly SlqbCacheStats[];
  /** Free bytes per NUMA region. */
  readonly freeBytesByNumaNode: readonly number[];
  /** Live IOBufs allocated from this allocator. */
  readonly liveIOBufs: number;
  /** Bytes held by page-level allocations (allocPages and > 8 MiB mallocs). */
  readonly pageAllocationBytes: number;
}

/** Per core, per class: every cache a core has used. `remoteFrees` counts frees received from other cores. */
export function collectCacheStats(mem: NodeMemory): SlqbCacheStats[] {
  const out: SlqbCacheStats[] = [];
  for (let core = 0; core < mem.cacheReps.length; core++) {
    const reps = mem.cacheReps[core];
    if (reps === undefined) continue;
    for (const r of reps) {
      if (!r.used) continue;
      out.push({
        objectSize: r.cache.objectSize,
        core,
        liveObjects: r.liveObjects,
        freeObjects: r.count + r.remoteCount + r.slabFree,
        slabs: r.slabCount,
        remoteFrees: r.remoteFreesReceived,
        bytesInUse: r.liveObjects * r.cache.objectSize,
        localFree: r.count,
        remoteQueued: r.remoteCount,
        pendingOutgoing: r.pendingTotal,
        remoteFreesSent: r.remoteFreesSent,
        partialSlabs: r.partialSlabs(),
      });
    }
  }
  return out;
}
