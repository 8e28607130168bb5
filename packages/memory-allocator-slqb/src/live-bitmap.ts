/**
 * One bit per 8-byte granule of physical memory, set while a slab object
 * starting there is in the user's hands. It is what turns a double free into
 * a reported error instead of a corrupted free list, at a cost of 1/64 of
 * memory size in host memory (zero-filled lazily by the OS, like the
 * simulated memory itself).
 */
export class LiveBitmap {
  private readonly words: Uint32Array;

  constructor(memoryBytes: number) {
    this.words = new Uint32Array(Math.ceil(memoryBytes / 256));
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
