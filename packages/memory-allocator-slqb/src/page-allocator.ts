/**
 * The node's page allocator: one buddy allocator per NUMA region. Requests
 * prefer a given NUMA node (the calling core's) and fall back to the others in
 * ring order starting after it, so remote memory is used only when local
 * memory is exhausted.
 */
import type { PhysicalMemory } from '@ebbrt/hw-x86sim';
import { BuddyAllocator, type BuddySnapshot } from './buddy.js';
import { PAGE_SHIFT, PAGE_SIZE } from './size-classes.js';

/** Largest block: 2^20 pages = 4 GiB, the largest memory a simulated machine may have. */
export const MAX_ORDER = 20;

export class NumaPageAllocator {
  readonly buddies: readonly BuddyAllocator[];
  private readonly regionPages: number;

  constructor(memory: PhysicalMemory, reserveBytes: number) {
    const usableFrom = Math.ceil(reserveBytes / PAGE_SIZE);
    this.regionPages = memory.regions[0].size >>> PAGE_SHIFT;
    this.buddies = memory.regions.map((r) => {
      const base = r.base / PAGE_SIZE;
      return new BuddyAllocator(base, base + r.size / PAGE_SIZE, usableFrom, MAX_ORDER);
    });
  }

  get numaNodes(): number {
    return this.buddies.length;
  }

  /** Address of 2^order free pages, preferring `numaNode`; -1 when no region can serve it. */
  alloc(order: number, numaNode: number): number {
    const n = this.buddies.length;
    const first = numaNode >= 0 && numaNode < n ? numaNode : 0;
    for (let i = 0; i < n; i++) {
      const addr = this.buddies[(first + i) % n].alloc(order);
      if (addr >= 0) return addr;
    }
    return -1;
  }

  free(addr: number, order: number): void {
    this.buddies[Math.floor(addr / PAGE_SIZE / this.regionPages)].free(addr, order);
  }

  /** NUMA node whose region holds `addr`. */
  nodeOf(addr: number): number {
    return Math.floor(addr / PAGE_SIZE / this.regionPages);
  }

  get freeBytes(): number {
    let s = 0;
    for (const b of this.buddies) s += b.freeBytes;
    return s;
  }

  get totalBytes(): number {
    let s = 0;
    for (const b of this.buddies) s += b.totalBytes;
    return s;
  }

  snapshot(): BuddySnapshot[] {
    return this.buddies.map((b) => b.snapshot());
  }
}
