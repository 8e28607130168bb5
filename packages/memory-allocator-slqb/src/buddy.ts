/**
 * Binary buddy page allocator over one contiguous range of physical pages
 * (one NUMA region). Blocks of 2^order pages are aligned to their size in
 * *absolute* physical addresses, so a 64 KiB block is 64 KiB-aligned whatever
 * the region base is; a block's buddy is `page ^ (1 << order)`, and two free
 * buddies of the same order merge.
 *
 * All metadata lives in typed arrays indexed by page number relative to the
 * region (intrusive doubly linked free lists, one per order), so alloc and
 * free allocate no JS objects and are O(max order).
 */
import { PAGE_SHIFT, PAGE_SIZE } from './size-classes.js';

const NIL = -1;

export interface BuddySnapshot {
  /** For each order, the sorted physical addresses of the free blocks of that order. */
  readonly freeBlocks: readonly (readonly number[])[];
  readonly freeBytes: number;
}

export class BuddyAllocator {
  /** First and one-past-last absolute page numbers this allocator manages. */
  readonly firstPage: number;
  readonly endPage: number;
  readonly maxOrder: number;
  /** Bytes currently free. */
  freeBytes = 0;
  /** Bytes this allocator manages (excluding reserved pages). */
  readonly totalBytes: number;

  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Order of the free block starting at this page, or -1 when the page heads no free block. */
  private readonly freeOrder: Int8Array;

  /**
   * @param basePage first page of the region (absolute)
   * @param endPage one past the last page of the region
   * @param usableFrom first page that may be handed out (pages below are reserved)
   */
  constructor(basePage: number, endPage: number, usableFrom: number, maxOrder: number) {
    this.firstPage = basePage;
    this.endPage = endPage;
    this.maxOrder = maxOrder;
    const n = endPage - basePage;
    this.heads = new Int32Array(maxOrder + 1).fill(NIL);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.freeOrder = new Int8Array(n).fill(-1);
    // Carve the usable range greedily into the largest aligned blocks.
    let page = Math.max(basePage, usableFrom);
    while (page < endPage) {
      let order = maxOrder;
      while (order > 0 && (page % (1 << order) !== 0 || page + (1 << order) > endPage)) order--;
      this.push(page, order);
      this.freeBytes += 2 ** order * PAGE_SIZE;
      page += 1 << order;
    }
    this.totalBytes = this.freeBytes;
  }

  /** Physical address of a free block of 2^order pages, or -1 if none is left here. */
  alloc(order: number): number {
    if (order > this.maxOrder) return -1;
    let o = order;
    while (o <= this.maxOrder && this.heads[o] === NIL) o++;
    if (o > this.maxOrder) return -1;
    const page = this.heads[o] + this.firstPage;
    this.unlink(page, o);
    // Split down, returning upper halves to the lists.
    while (o > order) {
      o--;
      this.push(page + (1 << o), o);
    }
    this.freeBytes -= 2 ** order * PAGE_SIZE;
    return page * PAGE_SIZE;
  }

  /** Returns a block; the caller has checked it was allocated with this order. */
  free(addr: number, order: number): void {
    let page = addr >>> PAGE_SHIFT;
    this.freeBytes += 2 ** order * PAGE_SIZE;
    let o = order;
    while (o < this.maxOrder) {
      const buddy = page ^ (1 << o);
      if (buddy < this.firstPage || buddy + (1 << o) > this.endPage) break;
      if (this.freeOrder[buddy - this.firstPage] !== o) break;
      this.unlink(buddy, o);
      page = page < buddy ? page : buddy;
      o++;
    }
    this.push(page, o);
  }

  /** True when `addr` lies in this allocator's pages. */
  contains(addr: number): boolean {
    const page = addr >>> PAGE_SHIFT;
    return page >= this.firstPage && page < this.endPage;
  }

  /** Largest order with a free block, or -1. */
  largestFreeOrder(): number {
    for (let o = this.maxOrder; o >= 0; o--) if (this.heads[o] !== NIL) return o;
    return -1;
  }

  /** The free lists as sorted addresses per order (allocates; for tests and stats). */
  snapshot(): BuddySnapshot {
    const freeBlocks: number[][] = [];
    for (let o = 0; o <= this.maxOrder; o++) {
      const list: number[] = [];
      for (let i = this.heads[o]; i !== NIL; i = this.next[i]) list.push((i + this.firstPage) * PAGE_SIZE);
      freeBlocks.push(list.sort((a, b) => a - b));
    }
    return { freeBlocks, freeBytes: this.freeBytes };
  }

  private push(page: number, order: number): void {
    const i = page - this.firstPage;
    const h = this.heads[order];
    this.next[i] = h;
    this.prev[i] = NIL;
    if (h !== NIL) this.prev[h] = i;
    this.heads[order] = i;
    this.freeOrder[i] = order;
  }

  private unlink(page: number, order: number): void {
    const i = page - this.firstPage;
    const n = this.next[i];
    const p = this.prev[i];
    if (p === NIL) this.heads[order] = n;
    else this.next[p] = n;
    if (n !== NIL) this.prev[n] = p;
    this.freeOrder[i] = -1;
  }
}
