/**
 * Everything the reps of one node's allocator share: the page allocator, the
 * page map, the slab descriptors, the live bitmap and every core's cache reps
 * (so a free on one core can find the owner's rep for the remote list).
 * One instance per node; nothing here is module-level.
 */
import type { PhysicalMemory } from '@ebbrt/hw-x86sim';
import { LiveBitmap } from './live-bitmap.js';
import { NumaPageAllocator } from './page-allocator.js';
import { PageMap } from './page-map.js';
import { SlabCache, type CacheLimits } from './slab-cache.js';
import type { CacheRep } from './slab-rep.js';
import { SlabTable } from './slab-table.js';
import { PAGE_SIZE, SizeClassTable } from './size-classes.js';

export class NodeMemory {
  readonly pages: NumaPageAllocator;
  readonly pageMap: PageMap;
  readonly slabs: SlabTable;
  readonly live: LiveBitmap;
  readonly classes = new SizeClassTable();
  readonly caches: readonly SlabCache[];
  /** cacheReps[core][class], filled when the core's rep is made. */
  readonly cacheReps: (CacheRep[] | undefined)[];

  constructor(
    readonly memory: PhysicalMemory,
    readonly numCores: number,
    reserveBytes: number,
    limits: CacheLimits,
  ) {
    const numPages = memory.size / PAGE_SIZE;
    this.pages = new NumaPageAllocator(memory, reserveBytes);
    this.pageMap = new PageMap(numPages);
    this.slabs = new SlabTable(numPages, memory.bytes.buffer);
    this.live = new LiveBitmap(memory.size);
    this.caches = SlabCache.all(limits);
    this.cacheReps = new Array<CacheRep[] | undefined>(numCores).fill(undefined);
  }
}
