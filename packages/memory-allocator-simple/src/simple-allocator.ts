/**
 * The simple MemoryAllocator: one rep per node shared by all cores, a single
 * first-fit free list over physical memory, and a Map of live allocations for
 * free-time checks. Deliberately naive; it exists to show that the
 * MemoryAllocator is swappable by config and to give SLQB a baseline.
 */
import {
  InvalidFreeError,
  IOBuf,
  IOBufStorage,
  OutOfMemoryError,
  type AllocatorStats,
  type IOBufReleaseHook,
  type LiveIOBuf,
  type MemoryAllocator,
} from '@ebbrt/interfaces';
import type { Machine } from '@ebbrt/hw-x86sim';
import { FreeList } from './free-list.js';

const PAGE_SIZE = 4096;
/** Allocation granule and alignment of malloc: 16 bytes, like glibc on x86-64. */
const GRANULE = 16;
const MAX_ORDER = 20;

interface Allocation {
  size: number;
  /** -1 for malloc, else the allocPages order. */
  order: number;
}

export class SimpleAllocator implements MemoryAllocator {
  private readonly freeList = new FreeList();
  private readonly allocations = new Map<number, Allocation>();
  private readonly totalBytes: number;
  private readonly liveBufs = new Map<number, number>();
  private readonly hook: IOBufReleaseHook = (s) => {
    this.liveBufs.delete(s.physAddr);
    this.free(s.physAddr);
  };

  constructor(
    private readonly machine: Machine,
    reserveBytes: number,
  ) {
    const start = Math.ceil(reserveBytes / PAGE_SIZE) * PAGE_SIZE;
    if (start < machine.memory.size) this.freeList.add(start, machine.memory.size - start);
    this.totalBytes = this.freeList.freeBytes;
  }

  malloc(size: number): number {
    const addr = this.tryMalloc(size);
    if (addr < 0) throw new OutOfMemoryError(`malloc(${size})`, this.rounded(size), this.freeList.freeBytes);
    return addr;
  }

  tryMalloc(size: number): number {
    if (!(size >= 0) || !Number.isInteger(size)) throw new RangeError(`malloc: size must be a non-negative integer, got ${size}`);
    const n = this.rounded(size);
    const addr = this.freeList.take(n, GRANULE);
    if (addr >= 0) this.allocations.set(addr, { size: n, order: -1 });
    return addr;
  }

  free(addr: number): void {
    const a = this.allocations.get(addr);
    if (a === undefined || a.order >= 0) throw new InvalidFreeError(addr, this.whyInvalid(addr, -1));
    this.allocations.delete(addr);
    this.freeList.add(addr, a.size);
  }

  allocPages(order: number, _numaNode?: number): number {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
      throw new RangeError(`allocPages: order must be an integer in 0..${MAX_ORDER}, got ${order}`);
    }
    const size = 2 ** order * PAGE_SIZE;
    const addr = this.freeList.take(size, size);
    if (addr < 0) throw new OutOfMemoryError(`allocPages(order ${order})`, size, this.freeList.freeBytes);
    this.allocations.set(addr, { size, order });
    return addr;
  }

  freePages(addr: number, order: number): void {
    const a = this.allocations.get(addr);
    if (a === undefined || a.order !== order) throw new InvalidFreeError(addr, this.whyInvalid(addr, order));
    this.allocations.delete(addr);
    this.freeList.add(addr, a.size);
  }

  allocIOBuf(size: number): IOBuf {
    const addr = this.malloc(size);
    this.liveBufs.set(addr, size);
    const storage = new IOBufStorage(this.machine.memory.view(addr, size), { physAddr: addr, onRelease: this.hook });
    return IOBuf.fromStorage(storage, 0, size);
  }

  freeBytes(): number {
    return this.freeList.freeBytes;
  }

  stats(): AllocatorStats {
    let live = 0;
    let bytes = 0;
    for (const a of this.allocations.values()) {
      if (a.order < 0) {
        live++;
        bytes += a.size;
      }
    }
    return {
      totalBytes: this.totalBytes,
      freePageBytes: this.freeList.freeBytes,
      // One pseudo-cache: the simple allocator has no size classes or per-core state.
      caches: [{ objectSize: 0, core: 0, liveObjects: live, freeObjects: this.freeList.starts.length, slabs: 0, remoteFrees: 0, bytesInUse: bytes }],
    };
  }

  /** Free ranges, address-ordered (for tests). */
  freeSnapshot(): { start: number; size: number }[] {
    return this.freeList.snapshot();
  }

  /** IOBufs allocated and not yet released. */
  liveIOBufs(): LiveIOBuf[] {
    return [...this.liveBufs].map(([address, size]) => ({ address, size }));
  }

  private rounded(size: number): number {
    return Math.max(GRANULE, Math.ceil(size / GRANULE) * GRANULE);
  }

  /** Explains a rejected free (O(live allocations): only on the error path). */
  private whyInvalid(addr: number, order: number): string {
    const a = this.allocations.get(addr);
    if (a !== undefined) {
      return a.order < 0 ? 'allocated with malloc; use free' : order < 0 ? 'allocated with allocPages; use freePages' : `freed with order ${order} but allocated with order ${a.order}`;
    }
    for (const [start, b] of this.allocations) {
      if (addr > start && addr < start + b.size) return `interior pointer into the allocation at 0x${start.toString(16)}`;
    }
    return 'not allocated (double free, or never allocated)';
  }
}
