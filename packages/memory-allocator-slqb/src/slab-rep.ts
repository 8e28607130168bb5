/**
 * One core's rep of one size class, SLQB style:
 *
 * - a LIFO free list of objects from this core's own slabs (a ring buffer in a
 *   typed array: push/pop at the top for cache-hot reuse, flush the coldest
 *   batch from the bottom when the high-water mark is passed);
 * - a remote-free list: objects of this core's slabs freed on other cores.
 *   Other cores collect such frees in a per-target pending batch and splice a
 *   whole batch onto the owner's list at once (on real hardware that is one
 *   lock round trip per batch instead of per object);
 * - a list of partial slabs owned by this core.
 *
 * Only the owner ever touches its slabs, so slab state needs no locking; the
 * remote list is the single cross-core meeting point.
 */
import { PageKind } from './page-map.js';
import type { NodeMemory } from './node-memory.js';
import type { SlabCache } from './slab-cache.js';
import { NIL_ADDR } from './slab-table.js';
import { PAGE_SIZE } from './size-classes.js';

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class CacheRep {
  // Local LIFO free list (ring buffer).
  private readonly ring: Uint32Array;
  private readonly mask: number;
  private base = 0;
  count = 0;

  // Remote-free list: an in-object chain spliced together from batches.
  private remoteHead = NIL_ADDR;
  private remoteTail = NIL_ADDR;
  remoteCount = 0;

  // Frees of other cores' objects, waiting to be sent as a batch (per target core).
  private readonly pendingHead: Uint32Array;
  private readonly pendingTail: Uint32Array;
  private readonly pendingCount: Int32Array;
  pendingTotal = 0;

  // Partial slabs (head pages, linked through the slab table).
  private partialHead = -1;

  // Stats.
  slabCount = 0;
  /** Free objects still on this core's slabs' own chains (or never used). */
  slabFree = 0;
  /** Objects from this core's slabs in the user's hands. */
  liveObjects = 0;
  /** Objects received on the remote list since creation. */
  remoteFreesReceived = 0;
  /** Objects this core freed on behalf of other owners. */
  remoteFreesSent = 0;
  used = false;

  constructor(
    readonly cache: SlabCache,
    readonly core: number,
    private readonly numaNode: number,
    private readonly mem: NodeMemory,
  ) {
    const cap = nextPow2(cache.highWaterMark + 1);
    this.ring = new Uint32Array(cap);
    this.mask = cap - 1;
    this.pendingHead = new Uint32Array(mem.numCores).fill(NIL_ADDR);
    this.pendingTail = new Uint32Array(mem.numCores).fill(NIL_ADDR);
    this.pendingCount = new Int32Array(mem.numCores);
  }

  /** An object address, or -1 when no memory is left for a new slab. */
  alloc(): number {
    if (this.count > 0) {
      this.count--;
      return this.ring[(this.base + this.count) & this.mask];
    }
    return this.allocSlow();
  }

  /** Frees an object of one of this core's slabs (already validated and unmarked). */
  freeLocal(addr: number): void {
    this.ring[(this.base + this.count) & this.mask] = addr;
    if (++this.count > this.cache.highWaterMark) this.flushLocal(this.cache.batchSize);
  }

  /** Queues a free of an object owned by `owner` (another core); sends a batch when full. */
  freeRemote(addr: number, owner: CacheRep): void {
    const words = this.mem.slabs.words;
    const t = owner.core;
    words[addr >>> 2] = NIL_ADDR;
    if (this.pendingCount[t] === 0) this.pendingHead[t] = addr;
    else words[this.pendingTail[t] >>> 2] = addr;
    this.pendingTail[t] = addr;
    this.pendingCount[t]++;
    this.pendingTotal++;
    this.remoteFreesSent++;
    this.used = true;
    if (this.pendingCount[t] >= this.cache.batchSize) this.sendPending(owner);
  }

  /** Splices this core's pending batch for `owner` onto owner's remote list. */
  sendPending(owner: CacheRep): void {
    const t = owner.core;
    const n = this.pendingCount[t];
    if (n === 0) return;
    owner.receiveRemote(this.pendingHead[t], this.pendingTail[t], n);
    this.pendingHead[t] = NIL_ADDR;
    this.pendingTail[t] = NIL_ADDR;
    this.pendingCount[t] = 0;
    this.pendingTotal -= n;
  }

  /** Sends every pending batch (to whichever cores they are for). */
  sendAllPending(): void {
    if (this.pendingTotal === 0) return;
    const reps = this.mem.cacheReps;
    for (let t = 0; t < this.pendingCount.length; t++) {
      if (this.pendingCount[t] > 0) this.sendPending(reps[t]![this.cache.index]);
    }
  }

  private receiveRemote(head: number, tail: number, n: number): void {
    if (this.remoteCount === 0) this.remoteHead = head;
    else this.mem.slabs.words[this.remoteTail >>> 2] = head;
    this.remoteTail = tail;
    this.remoteCount += n;
    this.remoteFreesReceived += n;
  }

  /**
   * Returns everything this core caches to the slabs (local and remote lists);
   * empty slabs go back to the page allocator. Pending outgoing batches must
   * have been sent first (by every core) for all memory to come back.
   */
  trim(): void {
    this.claimRemote(0);
    this.flushLocal(this.count);
  }

  private allocSlow(): number {
    // 1. Objects other cores freed back to us.
    if (this.remoteCount > 0) {
      this.claimRemote(this.cache.highWaterMark);
      if (this.count > 0) {
        this.count--;
        return this.ring[(this.base + this.count) & this.mask];
      }
    }
    // 2. A partial slab, else 3. a new slab; refill a batch so the next allocations are fast.
    const { objectSize, objectsPerSlab, batchSize } = this.cache;
    const slabs = this.mem.slabs;
    let got = 0;
    while (got < batchSize) {
      let slab = this.partialHead;
      if (slab < 0) {
        if (got > 0) break;
        slab = this.newSlab();
        if (slab < 0) return -1;
      }
      const addr = slabs.take(slab, objectSize, objectsPerSlab);
      if (addr < 0 || slabs.inUse[slab] === objectsPerSlab) this.unlinkPartial(slab);
      if (addr < 0) continue;
      this.slabFree--;
      this.ring[(this.base + this.count) & this.mask] = addr;
      this.count++;
      got++;
    }
    this.count--;
    return this.ring[(this.base + this.count) & this.mask];
  }

  /** Moves the remote list into the local list (up to `keep` objects); the rest go to their slabs. */
  private claimRemote(keep: number): void {
    const words = this.mem.slabs.words;
    let a = this.remoteHead;
    let n = this.remoteCount;
    this.remoteHead = NIL_ADDR;
    this.remoteTail = NIL_ADDR;
    this.remoteCount = 0;
    while (n-- > 0) {
      const next = words[a >>> 2];
      if (this.count < keep) {
        this.ring[(this.base + this.count) & this.mask] = a;
        this.count++;
      } else {
        this.returnToSlab(a);
      }
      a = next;
    }
  }

  /** Returns the `n` coldest objects of the local list to their slabs. */
  private flushLocal(n: number): void {
    while (n-- > 0 && this.count > 0) {
      const a = this.ring[this.base];
      this.base = (this.base + 1) & this.mask;
      this.count--;
      this.returnToSlab(a);
    }
  }

  private returnToSlab(addr: number): void {
    const mem = this.mem;
    const slab = mem.pageMap.head[Math.floor(addr / PAGE_SIZE)];
    const wasFull = mem.slabs.onPartial[slab] === 0;
    const inUse = mem.slabs.put(slab, addr);
    this.slabFree++;
    if (inUse === 0) {
      // Empty slabs go straight back to the page allocator, as in SLQB.
      if (!wasFull) this.unlinkPartial(slab);
      this.freeSlab(slab);
    } else if (wasFull) {
      this.linkPartial(slab);
    }
  }

  private newSlab(): number {
    const mem = this.mem;
    const order = this.cache.slabOrder;
    const addr = mem.pages.alloc(order, this.numaNode);
    if (addr < 0) return -1;
    const slab = addr / PAGE_SIZE;
    mem.pageMap.mark(slab, order, PageKind.Slab);
    mem.slabs.init(slab, this.cache.index, this.core);
    this.linkPartial(slab);
    this.slabCount++;
    this.slabFree += this.cache.objectsPerSlab;
    return slab;
  }

  private freeSlab(slab: number): void {
    const mem = this.mem;
    const order = this.cache.slabOrder;
    mem.pageMap.clear(slab, order);
    mem.pages.free(slab * PAGE_SIZE, order);
    this.slabCount--;
    this.slabFree -= this.cache.objectsPerSlab;
  }

  private linkPartial(slab: number): void {
    const s = this.mem.slabs;
    s.onPartial[slab] = 1;
    s.prev[slab] = -1;
    s.next[slab] = this.partialHead;
    if (this.partialHead >= 0) s.prev[this.partialHead] = slab;
    this.partialHead = slab;
  }

  private unlinkPartial(slab: number): void {
    const s = this.mem.slabs;
    if (s.onPartial[slab] === 0) return;
    s.onPartial[slab] = 0;
    const n = s.next[slab];
    const p = s.prev[slab];
    if (p < 0) this.partialHead = n;
    else s.next[p] = n;
    if (n >= 0) s.prev[n] = p;
  }

  /** Partial slabs on this core (walks the list; for stats). */
  partialSlabs(): number {
    let n = 0;
    for (let s = this.partialHead; s >= 0; s = this.mem.slabs.next[s]) n++;
    return n;
  }
}
