/**
 * Size classes of the general-purpose allocator and the slab geometry of each.
 *
 * Classes: 8, 16, 32, 64, 96, 128, 192, 256, 512, then powers of two up to
 * 8 MiB. 96 and 192 exist because network headers and small control blocks
 * cluster there and rounding them to 128/256 wastes a quarter of the memory.
 * Everything here is computed once per allocator into typed arrays, so the
 * malloc hot path is one table read (small sizes) or one clz32 (large sizes).
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Largest slab-backed object: 8 MiB. Larger requests go straight to the page allocator. */
export const MAX_SLAB_OBJECT = 8 << 20;

const SMALL: readonly number[] = [8, 16, 32, 64, 96, 128, 192, 256, 512];

/** Every class size in ascending order. */
export const CLASS_SIZES: readonly number[] = (() => {
  const out = [...SMALL];
  for (let s = 1024; s <= MAX_SLAB_OBJECT; s *= 2) out.push(s);
  return Object.freeze(out);
})();

export const NUM_CLASSES = CLASS_SIZES.length;

/** ceil(log2(n)) for n >= 1. */
export function ceilLog2(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/** Alignment of a class: its size for powers of two, else the largest power of two dividing it. */
export function classAlignment(size: number): number {
  return size & -size;
}

/**
 * Lookup tables mapping a request size to its class index. Requests up to 512
 * bytes use a table indexed by (size + 7) >> 3; larger ones are powers of two.
 */
export class SizeClassTable {
  /** (size + 7) >> 3 -> class index, for size in 1..512. */
  private readonly small = new Uint8Array((512 >> 3) + 1);
  /** Index of the 1024-byte class; class of 2^k (k >= 10) is firstPow2Class + k - 10. */
  private readonly firstPow2Class = SMALL.length;

  constructor() {
    let c = 0;
    for (let i = 1; i < this.small.length; i++) {
      while (CLASS_SIZES[c] < i << 3) c++;
      this.small[i] = c;
    }
  }

  /** Class index for `size` bytes (1..8 MiB), or -1 when the request is larger than any class. */
  classOf(size: number): number {
    if (size <= 512) return this.small[(size + 7) >> 3];
    if (size > MAX_SLAB_OBJECT) return -1;
    return this.firstPow2Class + ceilLog2(size) - 10;
  }
}

/**
 * Slab order for objects of `size`: the smallest power-of-two run of pages that
 * (a) holds at least one object, (b) holds a few objects for mid-sized classes
 * (up to 32 KiB of slab) so that refilling a per-core cache does not call the
 * page allocator once per object, and (c) wastes at most a quarter of the slab
 * in the tail that no whole object fits in.
 */
export function slabOrderFor(size: number): number {
  const target = Math.max(PAGE_SIZE, size, Math.min(size * 4, 32 * 1024));
  let order = ceilLog2(Math.ceil(target / PAGE_SIZE));
  for (;;) {
    const bytes = PAGE_SIZE << order;
    if (bytes >= size && bytes % size <= bytes / 4) return order;
    order++;
  }
}
