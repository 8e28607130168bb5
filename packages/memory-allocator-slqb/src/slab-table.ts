/**
 * Node-wide slab descriptors, indexed by the slab's head page number, so an
 * address finds its slab through the page map in O(1) with no JS objects.
 * Free objects inside a slab are chained through their first 4 bytes in
 * simulated memory (as in Linux's SLQB), which costs no metadata; a bump index
 * hands out never-used objects first so a fresh 8 MiB slab is not touched
 * end to end.
 */
import { PAGE_SIZE } from './size-classes.js';

/** End of an in-memory object chain. Never a valid object address (objects are 8-aligned). */
export const NIL_ADDR = 0xffffffff;

export class SlabTable {
  /** Size class of the slab. */
  readonly cls: Int8Array;
  /** Core whose rep owns the slab (allocates from it and receives its frees). */
  readonly owner: Int16Array;
  /** Objects not on the slab's own free chain (live, or cached on a core). */
  readonly inUse: Int32Array;
  /** Head of the slab's free chain (an object address) or NIL_ADDR. */
  readonly freeHead: Uint32Array;
  /** Index of the first never-used object. */
  readonly bump: Int32Array;
  /** Links of the owner rep's partial-slab list (head pages, -1 = none). */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly onPartial: Uint8Array;
  /** 32-bit view of physical memory for the in-object free chains. */
  readonly words: Uint32Array;

  constructor(numPages: number, memoryBuffer: ArrayBufferLike) {
    this.cls = new Int8Array(numPages);
    this.owner = new Int16Array(numPages);
    this.inUse = new Int32Array(numPages);
    this.freeHead = new Uint32Array(numPages);
    this.bump = new Int32Array(numPages);
    this.next = new Int32Array(numPages);
    this.prev = new Int32Array(numPages);
    this.onPartial = new Uint8Array(numPages);
    this.words = new Uint32Array(memoryBuffer, 0, Math.floor(memoryBuffer.byteLength / 4));
  }

  init(slab: number, cls: number, owner: number): void {
    this.cls[slab] = cls;
    this.owner[slab] = owner;
    this.inUse[slab] = 0;
    this.freeHead[slab] = NIL_ADDR;
    this.bump[slab] = 0;
    this.onPartial[slab] = 0;
  }

  /** Takes one free object from the slab, or returns -1 when it is full. */
  take(slab: number, objectSize: number, objectsPerSlab: number): number {
    const h = this.freeHead[slab];
    if (h !== NIL_ADDR) {
      this.freeHead[slab] = this.words[h >>> 2];
      this.inUse[slab]++;
      return h;
    }
    const b = this.bump[slab];
    if (b >= objectsPerSlab) return -1;
    this.bump[slab] = b + 1;
    this.inUse[slab]++;
    return slab * PAGE_SIZE + b * objectSize;
  }

  /** Puts an object back on its slab's chain; returns the slab's new in-use count. */
  put(slab: number, addr: number): number {
    this.words[addr >>> 2] = this.freeHead[slab];
    this.freeHead[slab] = addr;
    return --this.inUse[slab];
  }

  /** Free objects left in the slab. */
  freeIn(slab: number, objectsPerSlab: number): number {
    return objectsPerSlab - this.inUse[slab];
  }
}
