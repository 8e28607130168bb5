import type { EbbRoot } from '../execution.js';
import type { IOBuf } from '../iobuf/index.js';

/** A guest physical address. */
export type PhysAddr = number;

/** Per-cache, per-core allocator statistics. */
export interface CacheStats {
  readonly objectSize: number;
  readonly core: number;
  readonly liveObjects: number;
  readonly freeObjects: number;
  readonly slabs: number;
  readonly remoteFrees: number;
  readonly bytesInUse: number;
}

export interface AllocatorStats {
  readonly totalBytes: number;
  readonly freePageBytes: number;
  readonly caches: readonly CacheStats[];
}

/**
 * The node's memory allocator over simulated physical memory: a page allocator
 * (power-of-two orders of 4 KiB pages) and a general-purpose allocator by size
 * class. Failing requests throw {@link OutOfMemoryError}; bad frees throw
 * {@link InvalidFreeError}.
 */
export interface MemoryAllocator {
  /** Allocates 2^order contiguous 4 KiB pages, preferring `numaNode`. */
  allocPages(order: number, numaNode?: number): PhysAddr;
  freePages(addr: PhysAddr, order: number): void;
  malloc(size: number): PhysAddr;
  /** As malloc, but returns -1 instead of throwing when memory is exhausted. */
  tryMalloc(size: number): PhysAddr;
  free(addr: PhysAddr): void;
  /** An IOBuf over freshly allocated memory, returned to this allocator on its last release. */
  allocIOBuf(size: number): IOBuf;
  /**
   * Bytes of free pages on the node, cheaply (no walk): for callers that watch memory pressure
   * often (a cache that pins received buffers). Memory in per-core object caches is not counted.
   */
  freeBytes(): number;
  stats(): AllocatorStats;
}

/** An IOBuf allocated and not yet released (what a leak check after quiescence lists). */
export interface LiveIOBuf {
  readonly address: PhysAddr;
  readonly size: number;
  /** The core that allocated it, where the allocator records it. */
  readonly core?: number;
}

/** What the runtime may ask a memory allocator's root from outside any event (e.g. `ebbrt run --stats`). */
export interface MemoryAllocatorRoot extends EbbRoot<MemoryAllocator> {
  /** Node-wide statistics; call only when no core of the node is running. */
  stats(): AllocatorStats;
  /**
   * The IOBufs allocated and not yet released, for a leak check once the node is quiescent
   * (optional: an allocator that does not track them leaves it out).
   */
  liveIOBufs?(): readonly LiveIOBuf[];
}
