/**
 * Per-slab-class bookkeeping behind `stats items`, `stats slabs` and `stats cachedump`: which
 * class each item is in (see slab-classes.ts), chunks in use, the pages memcached would have
 * carved for them (a high-water mark: memcached never returns a page on delete), and the
 * per-class counters memcached keeps. Updating is a few array stores per operation; the
 * reports walk the LRU (cold paths, like memcached's own cachedump).
 */
import type { Item } from './item.js';
import type { Lru } from './lru.js';
import { MAX_SLAB_CLASSES, memcachedItemBytes, SlabClasses } from './slab-classes.js';

/** Per-class counters, each indexed by class id (named after memcached's). */
export class SlabCounters {
  readonly used = new Float64Array(MAX_SLAB_CLASSES);
  readonly pages = new Float64Array(MAX_SLAB_CLASSES);
  readonly getHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly cmdSet = new Float64Array(MAX_SLAB_CLASSES);
  readonly deleteHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly incrHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly decrHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly casHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly casBadval = new Float64Array(MAX_SLAB_CLASSES);
  readonly touchHits = new Float64Array(MAX_SLAB_CLASSES);
  readonly evicted = new Float64Array(MAX_SLAB_CLASSES);
  readonly evictedNonzero = new Float64Array(MAX_SLAB_CLASSES);
  /** Seconds since last access of the last item evicted from the class. */
  readonly evictedTime = new Float64Array(MAX_SLAB_CLASSES);
  readonly outOfMemory = new Float64Array(MAX_SLAB_CLASSES);
  readonly reclaimed = new Float64Array(MAX_SLAB_CLASSES);
}

export class SlabBook {
  readonly classes: SlabClasses;
  readonly counters = new SlabCounters();

  constructor(maxItemSize: number) {
    this.classes = new SlabClasses(maxItemSize);
  }

  /** The class an item of this shape goes in. */
  classOf(keyLength: number, valueLength: number, flags: number): number {
    return this.classes.classOf(memcachedItemBytes(keyLength, valueLength, flags));
  }

  /** Sets `item.cls` from its shape and counts its chunks in (the item is being linked). */
  link(item: Item): void {
    const bytes = memcachedItemBytes(item.key.length, item.length, item.flags);
    const cls = this.classes.classOf(bytes);
    item.cls = cls;
    const c = this.counters;
    c.used[cls]! += this.classes.chunksOf(bytes);
    const pages = Math.ceil(c.used[cls]! / this.classes.perPage[cls]!);
    if (pages > c.pages[cls]!) c.pages[cls] = pages;
  }

  /** Counts an item's chunks out (the item is being unlinked, or is about to change shape). */
  unlink(item: Item): void {
    this.counters.used[item.cls]! -= this.classes.chunksOf(memcachedItemBytes(item.key.length, item.length, item.flags));
  }

  /** An eviction from the LRU tail, as memcached counts it per class. */
  evicted(item: Item, nowMs: number): void {
    const c = this.counters;
    c.evicted[item.cls]!++;
    if (item.deadline !== 0) c.evictedNonzero[item.cls]!++;
    c.evictedTime[item.cls] = Math.max(0, Math.floor((nowMs - item.atMs) / 1000));
  }

  /** Forgets every counter (`stats reset`); chunks in use and pages stay. */
  resetCounters(): void {
    const c = this.counters;
    for (const a of [c.getHits, c.cmdSet, c.deleteHits, c.incrHits, c.decrHits, c.casHits, c.casBadval, c.touchHits, c.evicted, c.evictedNonzero, c.evictedTime, c.outOfMemory, c.reclaimed]) a.fill(0);
  }

  /** `stats items`: memcached 1.6's fields, for each class holding items. */
  items(lru: Lru, nowMs: number): Array<[string, string]> {
    const number = new Float64Array(MAX_SLAB_CLASSES);
    const requested = new Float64Array(MAX_SLAB_CLASSES);
    const oldest = new Float64Array(MAX_SLAB_CLASSES).fill(-1);
    for (let i = lru.tail; i !== null; i = i.prev) {
      number[i.cls]!++;
      requested[i.cls]! += memcachedItemBytes(i.key.length, i.length, i.flags);
      if (oldest[i.cls] === -1) oldest[i.cls] = i.atMs;
    }
    const c = this.counters;
    const out: Array<[string, string]> = [];
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      if (number[cls] === 0) continue;
      const p = `items:${cls}:`;
      const n = String(number[cls]);
      // What memcached 1.6 prints for a class when its LRU is not segmented (-o no_lru_maintainer),
      // which is the model here: one LRU, no hot/warm/cold.
      const fields: Array<[string, number | string]> = [
        ['number', n], ['age', Math.max(0, Math.floor((nowMs - oldest[cls]!) / 1000))],
        ['mem_requested', requested[cls]!], ['evicted', c.evicted[cls]!], ['evicted_nonzero', c.evictedNonzero[cls]!],
        ['evicted_time', c.evictedTime[cls]!], ['outofmemory', c.outOfMemory[cls]!], ['tailrepairs', 0],
        ['reclaimed', c.reclaimed[cls]!], ['expired_unfetched', 0], ['evicted_unfetched', 0],
        ['crawler_reclaimed', 0], ['crawler_items_checked', 0], ['lrutail_reflocked', 0],
      ];
      for (const [name, value] of fields) out.push([p + name, String(value)]);
    }
    return out;
  }

  /** `stats slabs`: memcached 1.6's fields, for each class that has pages. */
  slabs(): Array<[string, string]> {
    const c = this.counters;
    const out: Array<[string, string]> = [];
    let active = 0;
    let malloced = 0;
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      const pages = c.pages[cls]!;
      if (pages === 0) continue;
      active++;
      malloced += pages * this.classes.pageBytes;
      const perPage = this.classes.perPage[cls]!;
      const total = pages * perPage;
      const fields: Array<[string, number]> = [
        ['chunk_size', this.classes.chunkSize[cls]!], ['chunks_per_page', perPage], ['total_pages', pages],
        ['total_chunks', total], ['used_chunks', c.used[cls]!], ['free_chunks', total - c.used[cls]!], ['free_chunks_end', 0],
        ['get_hits', c.getHits[cls]!], ['cmd_set', c.cmdSet[cls]!], ['delete_hits', c.deleteHits[cls]!],
        ['incr_hits', c.incrHits[cls]!], ['decr_hits', c.decrHits[cls]!], ['cas_hits', c.casHits[cls]!],
        ['cas_badval', c.casBadval[cls]!], ['touch_hits', c.touchHits[cls]!],
      ];
      for (const [name, value] of fields) out.push([`${cls}:${name}`, String(value)]);
    }
    out.push(['active_slabs', String(active)], ['total_malloced', String(malloced)]);
    return out;
  }

  /**
   * `stats cachedump <class> <limit>`: up to `limit` (0 = all, and at most 2 MiB of text, as
   * memcached) items of the class, most recently used first, as `ITEM <key> [<bytes> b; <expiry> s]`
   * where expiry is a Unix time in seconds, 0 for never.
   */
  cachedump(lru: Lru, cls: number, limit: number): string {
    let text = '';
    let shown = 0;
    for (let i = lru.head; i !== null && (limit === 0 || shown < limit); i = i.next) {
      if (i.cls !== cls) continue;
      const line = `ITEM ${i.key} [${i.length} b; ${i.deadline <= 0 ? 0 : Math.floor(i.deadline / 1000)} s]\r\n`;
      if (text.length + line.length + 5 > 2 * 1024 * 1024) break;
      text += line;
      shown++;
    }
    return text + 'END\r\n';
  }
}
