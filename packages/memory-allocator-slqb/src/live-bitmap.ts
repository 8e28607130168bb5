/**
 * One bit per 8-byte granule of physical memory, set while a slab object
 * starting there is in the user's hands. It is what turns a double free into
 * a reported error instead of a corrupted free list, at a cost of 1/64 of
 * memory size in host memory (zero-filled lazily by the OS, like the
 * simulated memory itself).
 */
import { allocateHostTable } from '@ebbrt/hw-x86sim';

export class LiveBitmap {
  private readonly words: Uint32Array;

  constructor(memoryBytes: number) {
    // Page-mapped, not calloc'd: only the pages of granules ever allocated become resident, and a
    // 64 MiB node's 1 MiB is neither memset nor counted by V8 as external memory (a warm boot's GCs).
    const words = Math.ceil(memoryBytes / 256);
    this.words = new Uint32Array(allocateHostTable(words * 4), 0, words);
  }

  isSet(addr: number): boolean {
    return (this.words[addr >>> 8] & (1 << ((addr >>> 3) & 31))) !== 0;
  }

  set(addr: number): void {
    this.words[addr >>> 8] |= 1 << ((addr >>> 3) & 31);
  }

  clear(addr: number): void {
    this.words[addr >>> 8] &= ~(1 << ((addr >>> 3) & 31));
  }
}
