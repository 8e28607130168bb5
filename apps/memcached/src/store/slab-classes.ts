/**
 * memcached 1.6's slab classes, as arithmetic only. Our store is not slab allocated (values are
 * views of the buffers they arrived in), but `stats items`, `stats slabs` and `stats cachedump`
 * speak in slab classes and tools (memcdump, memcached-tool) walk them, so every item is given
 * the class memcached would put it in, and each class keeps memcached's per-class counters.
 *
 * The geometry is memcached's default (`slabs_init`): the smallest chunk is the item header plus
 * `-n 48`, each class is 1.25x the last rounded up to 8 bytes, up to half the item size limit
 * (`slab_chunk_max`); the last class is exactly `slab_chunk_max`; a page is `-I` bytes.
 */

/** sizeof(item) in memcached 1.6 on 64-bit. */
export const ITEM_HEADER_BYTES = 48;
const CAS_BYTES = 8;
const FLAGS_BYTES = 4;
const MIN_CHUNK_EXTRA = 48;
const GROWTH_FACTOR = 1.25;
const CHUNK_ALIGN = 8;
/** memcached's MAX_NUMBER_OF_SLAB_CLASSES (class ids are 1..63; 0 is never used). */
export const MAX_SLAB_CLASSES = 64;

/** memcached's per-item memory for a key, a value and flags (`item_make_header` + CAS). */
export function memcachedItemBytes(keyLength: number, valueLength: number, flags: number): number {
  return ITEM_HEADER_BYTES + keyLength + 1 + valueLength + 2 + CAS_BYTES + (flags === 0 ? 0 : FLAGS_BYTES);
}

export class SlabClasses {
  /** Chunk size of class i (index 0 unused). */
  readonly chunkSize: number[] = [0];
  /** Chunks per page of class i. */
  readonly perPage: number[] = [0];
  /** The last (largest) class id. */
  readonly largest: number;
  readonly pageBytes: number;

  constructor(maxItemSize: number) {
    this.pageBytes = maxItemSize;
    const chunkMax = Math.floor(maxItemSize / 2);
    let size = ITEM_HEADER_BYTES + MIN_CHUNK_EXTRA;
    let i = 0;
    while (++i < MAX_SLAB_CLASSES - 1) {
      if (size >= chunkMax / GROWTH_FACTOR) break;
      if (size % CHUNK_ALIGN !== 0) size += CHUNK_ALIGN - (size % CHUNK_ALIGN);
      this.chunkSize.push(size);
      this.perPage.push(Math.floor(maxItemSize / size));
      size = Math.floor(size * GROWTH_FACTOR); // memcached keeps the size in an unsigned int
    }
    this.largest = i;
    this.chunkSize[i] = chunkMax;
    this.perPage[i] = Math.floor(maxItemSize / chunkMax);
  }

  /** The class of an item of `bytes` (memcached's `slabs_clsid`; larger items go in the last class). */
  classOf(bytes: number): number {
    let c = 1;
    const sizes = this.chunkSize;
    while (c < this.largest && bytes > sizes[c]!) c++;
    return c;
  }

  /** Chunks an item of `bytes` occupies in its class (items above the last chunk size are chained). */
  chunksOf(bytes: number): number {
    const max = this.chunkSize[this.largest]!;
    return bytes <= max ? 1 : Math.ceil(bytes / max);
  }
}
