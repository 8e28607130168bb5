import type { IOBuf } from '@ebbrt/interfaces';

/**
 * One stored item. The value is a chain of IOBuf *views* that share the
 * storage of the buffers the request arrived in (zero copy); `null` stands for
 * the empty value. `prev`/`next` are the intrusive LRU links, so touching or
 * evicting an item never allocates.
 */
export class Item {
  prev: Item | null = null;
  next: Item | null = null;
  /** memcached's slab class for this item's shape (slab-classes.ts), set when linked. */
  cls = 0;
  /** Store clock (ms) of the last access: `stats items` age, eviction time. */
  atMs = 0;
  constructor(
    readonly key: string,
    public value: IOBuf | null,
    public length: number,
    public flags: number,
    /** Absolute deadline in ms on the store clock; 0 = never (see expiry.ts). */
    public deadline: number,
    public cas: number,
  ) {}
}
