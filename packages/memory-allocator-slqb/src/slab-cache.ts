/**
 * Per-size-class cache geometry, shared by every core's rep of that class:
 * object size, slab order, objects per slab, and the per-core cache limits.
 */
import { CLASS_SIZES, PAGE_SIZE, slabOrderFor } from './size-classes.js';

export interface CacheLimits {
  /** Objects a core may hold on its local free list before a batch is flushed to slabs. */
  highWaterMark: number;
  /** Objects moved per refill/flush, and per remote-free batch. */
  batchSize: number;
  /** Cap on the bytes one core caches per class, so 8 MiB classes do not hoard memory. */
  cacheBytesPerCore: number;
}

export class SlabCache {
  readonly objectSize: number;
  readonly slabOrder: number;
  readonly objectsPerSlab: number;
  readonly highWaterMark: number;
  readonly batchSize: number;

  constructor(
    readonly index: number,
    limits: CacheLimits,
  ) {
    this.objectSize = CLASS_SIZES[index];
    this.slabOrder = slabOrderFor(this.objectSize);
    this.objectsPerSlab = Math.floor((PAGE_SIZE * 2 ** this.slabOrder) / this.objectSize);
    // Scale the per-core cache to the object size, as SLQB does: a fixed object
    // count would let one core pin hundreds of megabytes of large objects.
    this.highWaterMark = Math.max(1, Math.min(limits.highWaterMark, Math.floor(limits.cacheBytesPerCore / this.objectSize)));
    this.batchSize = Math.max(1, Math.min(limits.batchSize, Math.ceil(this.highWaterMark / 2)));
  }

  static all(limits: CacheLimits): SlabCache[] {
    return CLASS_SIZES.map((_, i) => new SlabCache(i, limits));
  }
}
