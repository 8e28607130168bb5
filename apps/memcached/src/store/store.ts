import { IOBuf, OutOfMemoryError, type IOBufStorage } from '@ebbrt/interfaces';
import { StorageAccounting } from './accounting.js';
import { StoreCounters } from './counters.js';
import { deadlineMs, EXPIRED, isPast } from './expiry.js';
import { Item } from './item.js';
import { Lru } from './lru.js';
import { SlabBook } from './slab-stats.js';
import { applyDelta, parseStoredU64 } from './numeric.js';

/** Longest key memcached accepts, in bytes. */
export const KEY_MAX_LENGTH = 250;
/**
 * Bytes charged per item on top of its key and pinned storage: the Item
 * object, its Map entry and its view descriptors, roughly.
 */
export const ITEM_OVERHEAD = 64;

export interface StoreOptions {
  /** Evict (LRU) until the charged bytes are at most this. */
  memoryLimit: number;
  /** Largest value accepted, in bytes. */
  maxItemSize: number;
  /** Unix time in milliseconds (injected so tests are deterministic). */
  nowMs: () => number;
  /** Allocates the small buffers incr/decr write their result into (default IOBuf.allocate). */
  allocate?: (size: number) => IOBuf;
}

/** Outcome of a store operation (one of these numbers). */
export const StoreStatus = {
  Stored: 0,
  NotStored: 1,
  Exists: 2,
  NotFound: 3,
  TooLarge: 4,
  NoMemory: 5,
  NonNumeric: 6,
} as const;
export type StoreStatus = (typeof StoreStatus)[keyof typeof StoreStatus];

/** How a value is stored. */
export const StoreMode = { Set: 0, Add: 1, Replace: 2, Append: 3, Prepend: 4, Cas: 5 } as const;
export type StoreMode = (typeof StoreMode)[keyof typeof StoreMode];

/**
 * The node-wide item store: a Map from key (latin1, so bytes map 1:1 to
 * UTF-16 code units) to Item, an intrusive LRU, lazy expiry, CAS uniques,
 * flush_all with a delay, an item size limit and memory accounting with
 * eviction. Values are zero-copy views; the store owns the chains it holds.
 *
 * Runs to completion on whichever core calls it (EbbRT's runtime is
 * non-preemptive), so it needs no locking.
 */
export class MemcachedStore {
  readonly counters = new StoreCounters();
  /** memcached's slab classes and their counters (`stats items`, `stats slabs`, `stats cachedump`). */
  readonly slabs: SlabBook;
  /** CAS unique of the item the last successful store/arith wrote. */
  lastCas = 0;
  /** Value the last successful arith produced. */
  lastValue = 0n;

  private readonly items = new Map<string, Item>();
  private readonly lru = new Lru();
  private readonly accounting = new StorageAccounting();
  private readonly scratch = new Set<IOBufStorage>();
  private readonly allocate: (size: number) => IOBuf;
  private keyBytes = 0;
  private valueBytes = 0;
  private nextCas = 1;
  /** Pending delayed flush_all deadline (ms), 0 when none. */
  private flushAtMs = 0;

  constructor(readonly options: StoreOptions) {
    if (!(options.memoryLimit > 0)) throw new RangeError(`memoryLimit must be positive, got ${options.memoryLimit}`);
    if (!(options.maxItemSize > 0)) throw new RangeError(`maxItemSize must be positive, got ${options.maxItemSize}`);
    this.allocate = options.allocate ?? ((size) => IOBuf.allocate(size));
    this.slabs = new SlabBook(options.maxItemSize);
  }

  // ------------------------------------------------------------ accounting

  /** Bytes charged against memoryLimit: pinned storages + keys + per-item overhead. */
  get chargedBytes(): number {
    return this.accounting.storageBytes + this.keyBytes + this.lru.size * ITEM_OVERHEAD;
  }

  /** Distinct received/allocated storages pinned by stored values. */
  get pinnedStorages(): number {
    return this.accounting.storages;
  }

  /** Sum of the stored values' lengths. */
  get valueBytesStored(): number {
    return this.valueBytes;
  }

  get itemCount(): number {
    return this.lru.size;
  }

  get memoryLimit(): number {
    return this.options.memoryLimit;
  }

  get maxItemSize(): number {
    return this.options.maxItemSize;
  }

  now(): number {
    return this.options.nowMs();
  }

  /** Keys from most to least recently used (tests, debugging; allocates). */
  keysByRecency(): string[] {
    const keys: string[] = [];
    for (let i = this.lru.head; i !== null; i = i.next) keys.push(i.key);
    return keys;
  }

  /** `stats items` (memcached 1.6's fields; walks the LRU). */
  itemsStats(): Array<[string, string]> {
    return this.slabs.items(this.lru, this.options.nowMs());
  }

  /** `stats cachedump <cls> <limit>` as text, through the final END. */
  cachedump(cls: number, limit: number): string {
    return this.slabs.cachedump(this.lru, cls, limit);
  }

  /** `stats reset`: zeroes the counters (memcached keeps items, pages and connection counts). */
  resetStats(): void {
    Object.assign(this.counters, new StoreCounters());
    this.slabs.resetCounters();
  }

  // ------------------------------------------------------------ reads

  /** A live item (counted as a get; marks it recently used), or undefined. */
  get(key: string): Item | undefined {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    this.counters.cmd_get++;
    const reclaimed = this.counters.reclaimed;
    const item = this.live(key, now);
    if (item === undefined) {
      this.counters.get_misses++;
      if (this.counters.reclaimed !== reclaimed) this.counters.get_expired++;
      return undefined;
    }
    this.counters.get_hits++;
    this.slabs.counters.getHits[item.cls]!++;
    item.atMs = now;
    this.lru.touch(item);
    return item;
  }

  /** A live item without counting or touching it (tests, internal). */
  peek(key: string): Item | undefined {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    return this.live(key, now);
  }

  /**
   * Sets a live item's expiry (touch / gat). Returns the item, or undefined on
   * a miss. A past exptime leaves the item visible to this call only.
   */
  touch(key: string, exptime: number): Item | undefined {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    this.counters.cmd_touch++;
    const item = this.live(key, now);
    if (item === undefined) {
      this.counters.touch_misses++;
      return undefined;
    }
    this.counters.touch_hits++;
    this.slabs.counters.touchHits[item.cls]!++;
    item.deadline = deadlineMs(exptime, now);
    item.atMs = now;
    this.lru.touch(item);
    return item;
  }

  // ------------------------------------------------------------ writes

  /**
   * Stores `value` (a chain of `length` bytes, or null when empty) under
   * `key`, taking ownership of the chain whatever the outcome. `cas` 0 means
   * "no CAS check" except in {@link StoreMode.Cas}. On success `lastCas` holds
   * the new item's CAS unique.
   */
  store(mode: StoreMode, key: string, value: IOBuf | null, length: number, flags: number, exptime: number, cas: number): StoreStatus {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    this.counters.cmd_set++;
    if (length > this.options.maxItemSize) return this.reject(value, StoreStatus.TooLarge);
    // memcached counts a set in the class of the item it allocated for the request.
    const slab = this.slabs.counters;
    const cls = this.slabs.classOf(key.length, length, flags);
    slab.cmdSet[cls]!++;
    const existing = this.live(key, now);
    if (mode === StoreMode.Cas) {
      if (existing === undefined) {
        this.counters.cas_misses++;
        return this.reject(value, StoreStatus.NotFound);
      }
      if (existing.cas !== cas) {
        this.counters.cas_badval++;
        slab.casBadval[cls]!++;
        return this.reject(value, StoreStatus.Exists);
      }
      this.counters.cas_hits++;
      slab.casHits[cls]!++;
    } else if (mode === StoreMode.Add) {
      if (existing !== undefined) {
        existing.atMs = now;
        this.lru.touch(existing); // memcached bumps an item a failed add found
        return this.reject(value, StoreStatus.NotStored);
      }
    } else {
      if (existing === undefined && mode !== StoreMode.Set) return this.reject(value, StoreStatus.NotStored);
      if (cas !== 0) {
        if (existing === undefined) return this.reject(value, StoreStatus.NotFound);
        if (existing.cas !== cas) return this.reject(value, StoreStatus.Exists);
      }
    }
    let deadline: number;
    if (mode === StoreMode.Append || mode === StoreMode.Prepend) {
      const old = existing!;
      if (old.length + length > this.options.maxItemSize) return this.reject(value, StoreStatus.TooLarge);
      // A new chain of views of old + new: no value byte is copied.
      const oldViews = old.value === null ? null : old.value.cloneChain();
      value = mode === StoreMode.Append ? concat(oldViews, value) : concat(value, oldViews);
      length += old.length;
      flags = old.flags;
      deadline = old.deadline;
    } else {
      deadline = deadlineMs(exptime, now);
      if (deadline === EXPIRED) {
        // Stored and instantly invisible: the old value is gone either way.
        if (existing !== undefined) this.unlink(existing);
        if (value !== null) value.releaseChain();
        this.lastCas = this.nextCas++;
        return StoreStatus.Stored;
      }
    }
    const pins = value === null ? 0 : this.accounting.standalone(value, this.scratch);
    if (pins + key.length + ITEM_OVERHEAD > this.options.memoryLimit) return this.reject(value, StoreStatus.NoMemory);
    if (existing !== undefined) this.unlink(existing);
    this.insert(new Item(key, value, length, flags, deadline, this.nextCas++));
    return StoreStatus.Stored;
  }

  /** Deletes a live item; false when there was none. */
  delete(key: string): boolean {
    return this.deleteCas(key, 0) === StoreStatus.Stored;
  }

  /**
   * Deletes a live item if `cas` is 0 or its CAS unique (the binary protocol's DELETE):
   * Stored when deleted, NotFound, or Exists when the CAS does not match (nothing deleted).
   */
  deleteCas(key: string, cas: number): StoreStatus {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    const item = this.live(key, now);
    if (item === undefined) {
      this.counters.delete_misses++;
      return StoreStatus.NotFound;
    }
    if (cas !== 0 && item.cas !== cas) return StoreStatus.Exists;
    this.counters.delete_hits++;
    this.slabs.counters.deleteHits[item.cls]!++;
    this.unlink(item);
    return StoreStatus.Stored;
  }

  /**
   * incr/decr by `delta` (unsigned 64-bit: incr wraps, decr floors at 0).
   * On a miss, `initial` (binary protocol) creates the item with that value;
   * null means "do not create". On success `lastValue`/`lastCas` are set.
   */
  arith(key: string, incr: boolean, delta: bigint, initial: bigint | null, exptime: number): StoreStatus {
    const now = this.options.nowMs();
    this.applyPendingFlush(now);
    const item = this.live(key, now);
    if (item === undefined) {
      if (incr) this.counters.incr_misses++;
      else this.counters.decr_misses++;
      if (initial === null) return StoreStatus.NotFound;
      const buf = this.formatNumber(initial);
      if (buf === null) return StoreStatus.NoMemory;
      const deadline = deadlineMs(exptime, now);
      this.lastValue = initial;
      if (deadline === EXPIRED) {
        buf.releaseChain();
        this.lastCas = this.nextCas++;
        return StoreStatus.Stored;
      }
      this.insert(new Item(key, buf, buf.length, 0, deadline, this.nextCas++));
      return StoreStatus.Stored;
    }
    const current = parseStoredU64(item.value, item.length);
    if (current === null) return StoreStatus.NonNumeric;
    if (incr) {
      this.counters.incr_hits++;
      this.slabs.counters.incrHits[item.cls]!++;
    } else {
      this.counters.decr_hits++;
      this.slabs.counters.decrHits[item.cls]!++;
    }
    const next = applyDelta(current, delta, incr);
    // memcached rewrites a number that got no longer in place, padded with spaces to the old
    // length ("10" decr 1 is "9 "); a longer one becomes a new item of its own length.
    const buf = this.formatNumber(next, item.length);
    if (buf === null) return StoreStatus.NoMemory;
    // Replace the value in place (the number is new bytes; incr/decr cannot be zero copy).
    if (item.value !== null) {
      this.accounting.uncharge(item.value);
      item.value.releaseChain();
    }
    this.valueBytes += buf.length - item.length;
    this.slabs.unlink(item);
    item.value = buf;
    item.length = buf.length;
    this.slabs.link(item); // a longer number may move it to the next class
    item.cas = this.nextCas++;
    item.atMs = now;
    this.accounting.charge(buf);
    this.lru.touch(item);
    this.evict(item);
    this.lastValue = next;
    this.lastCas = item.cas;
    return StoreStatus.Stored;
  }

  /** flush_all: invalidates every item now (delay <= 0) or once `delay` (an exptime) passes. */
  flushAll(delay: number): void {
    const now = this.options.nowMs();
    this.counters.cmd_flush++;
    const at = delay <= 0 ? EXPIRED : deadlineMs(delay, now);
    if (at === EXPIRED) {
      this.flushAtMs = 0;
      this.clear();
    } else this.flushAtMs = at;
  }

  /**
   * Evicts from the LRU tail until at least `bytes` of charge are gone or the
   * store is empty (used when a reply buffer could not be allocated). Returns
   * the charge released.
   */
  shed(bytes: number): number {
    const before = this.chargedBytes;
    while (this.lru.tail !== null && before - this.chargedBytes < bytes) {
      this.counters.evictions++;
      this.slabs.evicted(this.lru.tail, this.options.nowMs());
      this.unlink(this.lru.tail);
    }
    return before - this.chargedBytes;
  }

  /** Drops every item (tests, server shutdown). */
  clear(): void {
    for (let i = this.lru.head; i !== null; ) {
      const next: Item | null = i.next;
      this.slabs.unlink(i);
      this.releaseValue(i);
      i = next;
    }
    this.items.clear();
    this.lru.clear();
    this.keyBytes = 0;
    this.valueBytes = 0;
  }

  // ------------------------------------------------------------ internals

  private reject(value: IOBuf | null, status: StoreStatus): StoreStatus {
    if (value !== null) value.releaseChain();
    return status;
  }

  /** The item under `key` unless it has expired (then it is reclaimed: lazy expiry). */
  private live(key: string, now: number): Item | undefined {
    const item = this.items.get(key);
    if (item === undefined) return undefined;
    if (!isPast(item.deadline, now)) return item;
    this.counters.reclaimed++;
    this.slabs.counters.reclaimed[item.cls]!++;
    this.unlink(item);
    return undefined;
  }

  private applyPendingFlush(now: number): void {
    // Every operation runs this first, so when the deadline has passed, every
    // item in the store was stored before it: dropping them all is exact.
    if (this.flushAtMs !== 0 && now >= this.flushAtMs) {
      this.flushAtMs = 0;
      this.clear();
    }
  }

  private insert(item: Item): void {
    item.atMs = this.options.nowMs();
    this.slabs.link(item);
    this.items.set(item.key, item);
    this.lru.pushFront(item);
    this.keyBytes += item.key.length;
    this.valueBytes += item.length;
    if (item.value !== null) this.accounting.charge(item.value);
    this.counters.total_items++;
    this.lastCas = item.cas;
    this.evict(item);
  }

  /** Evicts least recently used items (never `keep`) until the charge fits the limit. */
  private evict(keep: Item): void {
    const limit = this.options.memoryLimit;
    const now = this.options.nowMs();
    while (this.chargedBytes > limit) {
      const victim = this.lru.tail;
      if (victim === null || victim === keep) break;
      if (isPast(victim.deadline, now)) {
        this.counters.reclaimed++;
        this.slabs.counters.reclaimed[victim.cls]!++;
      } else {
        this.counters.evictions++;
        this.slabs.evicted(victim, now);
      }
      this.unlink(victim);
    }
  }

  private unlink(item: Item): void {
    this.slabs.unlink(item);
    this.items.delete(item.key);
    this.lru.remove(item);
    this.keyBytes -= item.key.length;
    this.valueBytes -= item.length;
    this.releaseValue(item);
  }

  private releaseValue(item: Item): void {
    const v = item.value;
    if (v === null) return;
    item.value = null;
    this.accounting.uncharge(v);
    v.releaseChain();
  }

  /**
   * A new buffer holding `n` in decimal, space-padded to `width` when it fits in it; on
   * OutOfMemoryError sheds items and retries once.
   */
  private formatNumber(n: bigint, width = 0): IOBuf | null {
    let text = n.toString();
    if (text.length < width) text = text.padEnd(width, ' ');
    let buf: IOBuf;
    try {
      buf = this.allocate(text.length);
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      this.shed(text.length + ITEM_OVERHEAD);
      try {
        buf = this.allocate(text.length);
      } catch (again) {
        if (again instanceof OutOfMemoryError) return null;
        throw again;
      }
    }
    const bytes = buf.bytes;
    for (let i = 0; i < text.length; i++) bytes[buf.offset + i] = text.charCodeAt(i);
    return buf;
  }
}

/** Joins two optional chains (taking ownership of both). */
function concat(a: IOBuf | null, b: IOBuf | null): IOBuf | null {
  if (a === null) return b;
  if (b !== null) a.appendChain(b);
  return a;
}
