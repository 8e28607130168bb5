/**
 * The per-core rep of the SLQB MemoryAllocator Ebb. malloc and free touch only
 * this core's cache reps except when an object belongs to another core, which
 * goes to that core's remote list in batches.
 */
import { InvalidFreeError, OutOfMemoryError, type IOBuf, type MemoryAllocator } from '@ebbrt/interfaces';
import { PageKind } from './page-map.js';
import { MAX_ORDER } from './page-allocator.js';
import type { NodeMemory } from './node-memory.js';
import type { SlqbRoot } from './root.js';
import { CacheRep } from './slab-rep.js';
import { ceilLog2, CLASS_SIZES, PAGE_SIZE } from './size-classes.js';
import type { SlqbAllocatorStats } from './stats.js';

export class SlqbAllocator implements MemoryAllocator {
  readonly caches: CacheRep[];
  private readonly mem: NodeMemory;

  constructor(
    private readonly root: SlqbRoot,
    /** The core this rep serves. */
    readonly core: number,
    /** The NUMA node of that core: where its slabs and pages come from first. */
    readonly numaNode: number,
  ) {
    this.mem = root.mem;
    this.caches = this.mem.caches.map((c) => new CacheRep(c, core, numaNode, this.mem));
    this.mem.cacheReps[core] = this.caches;
  }

  malloc(size: number): number {
    const addr = this.tryMalloc(size);
    if (addr < 0) {
      throw new OutOfMemoryError(`malloc(${size}) on core ${this.core}`, this.roundedSize(size), this.mem.pages.freeBytes);
    }
    return addr;
  }

  tryMalloc(size: number): number {
    if (!(size >= 0) || !Number.isInteger(size)) throw new RangeError(`malloc: size must be a non-negative integer, got ${size}`);
    const cls = this.mem.classes.classOf(size === 0 ? 1 : size);
    if (cls < 0) return this.allocLarge(size);
    const c = this.caches[cls];
    let addr = c.alloc();
    if (addr < 0) {
      // Out of pages: give back what this core caches (never another core's:
      // that would need an IPI on real hardware) and try once more.
      this.trim();
      addr = c.alloc();
      if (addr < 0) return -1;
    }
    c.used = true;
    c.liveObjects++;
    this.mem.live.set(addr);
    return addr;
  }

  free(addr: number): void {
    const mem = this.mem;
    if (!Number.isInteger(addr) || addr < 0 || addr >= mem.memory.size) {
      throw new InvalidFreeError(addr, `outside physical memory (0..0x${mem.memory.size.toString(16)})`);
    }
    const page = Math.floor(addr / PAGE_SIZE);
    const kind = mem.pageMap.kind[page];
    if (kind === PageKind.Slab) return this.freeObject(addr, mem.pageMap.head[page]);
    if (kind === PageKind.Large) {
      const head = mem.pageMap.head[page];
      if (addr !== head * PAGE_SIZE) throw new InvalidFreeError(addr, `interior pointer into the allocation at 0x${(head * PAGE_SIZE).toString(16)}`);
      this.releasePages(head, mem.pageMap.order[head]);
      return;
    }
    if (kind === PageKind.Pages) throw new InvalidFreeError(addr, 'the address was allocated with allocPages; use freePages');
    throw new InvalidFreeError(addr, 'not allocated (double free, or never allocated)');
  }

  allocPages(order: number, numaNode?: number): number {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
      throw new RangeError(`allocPages: order must be an integer in 0..${MAX_ORDER}, got ${order}`);
    }
    const addr = this.mem.pages.alloc(order, numaNode ?? this.numaNode);
    if (addr < 0) {
      throw new OutOfMemoryError(`allocPages(order ${order}) on core ${this.core}`, 2 ** order * PAGE_SIZE, this.mem.pages.freeBytes);
    }
    this.mem.pageMap.mark(addr / PAGE_SIZE, order, PageKind.Pages);
    return addr;
  }

  freePages(addr: number, order: number): void {
    const mem = this.mem;
    if (!Number.isInteger(addr) || addr < 0 || addr >= mem.memory.size) {
      throw new InvalidFreeError(addr, 'outside physical memory');
    }
    const page = Math.floor(addr / PAGE_SIZE);
    if (mem.pageMap.kind[page] !== PageKind.Pages) throw new InvalidFreeError(addr, 'not an allocPages block (double free, or never allocated)');
    const head = mem.pageMap.head[page];
    if (head !== page) throw new InvalidFreeError(addr, `interior pointer into the page block at 0x${(head * PAGE_SIZE).toString(16)}`);
    if (mem.pageMap.order[head] !== order) {
      throw new InvalidFreeError(addr, `freed with order ${order} but allocated with order ${mem.pageMap.order[head]}`);
    }
    this.releasePages(head, order);
  }

  allocIOBuf(size: number): IOBuf {
    return this.root.iobufs.wrap(this.malloc(size), size, this.core);
  }

  freeBytes(): number {
    return this.mem.pages.freeBytes;
  }

  stats(): SlqbAllocatorStats {
    return this.root.stats();
  }

  /** Returns this core's cached objects (local and remote lists) to the slabs, and sends pending remote batches. */
  trim(): void {
    for (const c of this.caches) c.sendAllPending();
    for (const c of this.caches) c.trim();
  }

  private freeObject(addr: number, slab: number): void {
    const mem = this.mem;
    const cls = mem.slabs.cls[slab];
    const size = CLASS_SIZES[cls];
    const offset = addr - slab * PAGE_SIZE;
    const index = Math.floor(offset / size);
    if (offset % size !== 0 || index >= mem.caches[cls].objectsPerSlab) {
      throw new InvalidFreeError(addr, `interior pointer into a ${size}-byte object at 0x${(slab * PAGE_SIZE + index * size).toString(16)}`);
    }
    if (!mem.live.isSet(addr)) throw new InvalidFreeError(addr, `${size}-byte object is not allocated (double free, or never allocated)`);
    mem.live.clear(addr);
    const owner = mem.slabs.owner[slab];
    const ownerRep = mem.cacheReps[owner]![cls];
    ownerRep.liveObjects--;
    if (owner === this.core) ownerRep.freeLocal(addr);
    else this.caches[cls].freeRemote(addr, ownerRep);
  }

  private allocLarge(size: number): number {
    const order = ceilLog2(Math.ceil(size / PAGE_SIZE));
    if (order > MAX_ORDER) return -1;
    let addr = this.mem.pages.alloc(order, this.numaNode);
    if (addr < 0) {
      this.trim();
      addr = this.mem.pages.alloc(order, this.numaNode);
      if (addr < 0) return -1;
    }
    this.mem.pageMap.mark(addr / PAGE_SIZE, order, PageKind.Large);
    return addr;
  }

  private releasePages(head: number, order: number): void {
    this.mem.pageMap.clear(head, order);
    this.mem.pages.free(head * PAGE_SIZE, order);
  }

  private roundedSize(size: number): number {
    const cls = this.mem.classes.classOf(size === 0 ? 1 : size);
    return cls >= 0 ? CLASS_SIZES[cls] : 2 ** ceilLog2(Math.ceil(size / PAGE_SIZE)) * PAGE_SIZE;
  }
}
