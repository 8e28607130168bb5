/**
 * A first-fit, address-ordered free list of byte ranges with coalescing. It is
 * the textbook allocator SLQB is measured against: O(free ranges) per
 * allocation, no per-core state, no size classes.
 */
export class FreeList {
  /** Start addresses, ascending; sizes[i] belongs to starts[i]. */
  readonly starts: number[] = [];
  readonly sizes: number[] = [];
  freeBytes = 0;

  add(start: number, size: number): void {
    // Binary search for the insertion point, then merge with neighbours.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    this.freeBytes += size;
    const prevEnd = lo > 0 ? this.starts[lo - 1] + this.sizes[lo - 1] : -1;
    const joinsPrev = prevEnd === start;
    const joinsNext = lo < this.starts.length && this.starts[lo] === start + size;
    if (joinsPrev && joinsNext) {
      this.sizes[lo - 1] += size + this.sizes[lo];
      this.starts.splice(lo, 1);
      this.sizes.splice(lo, 1);
    } else if (joinsPrev) {
      this.sizes[lo - 1] += size;
    } else if (joinsNext) {
      this.starts[lo] = start;
      this.sizes[lo] += size;
    } else {
      this.starts.splice(lo, 0, start);
      this.sizes.splice(lo, 0, size);
    }
  }

  /** First range that fits `size` bytes at `align`; returns the address or -1. */
  take(size: number, align: number): number {
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i];
      const a = Math.ceil(s / align) * align;
      const end = s + this.sizes[i];
      if (a + size > end) continue;
      // Split into [s, a) before, [a, a+size) taken, [a+size, end) after.
      this.starts.splice(i, 1);
      this.sizes.splice(i, 1);
      this.freeBytes -= end - s;
      if (a > s) this.add(s, a - s);
      if (a + size < end) this.add(a + size, end - a - size);
      return a;
    }
    return -1;
  }

  snapshot(): { start: number; size: number }[] {
    return this.starts.map((start, i) => ({ start, size: this.sizes[i] }));
  }
}
