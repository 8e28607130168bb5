/**
 * Guest physical memory: one zero-filled buffer per machine, addressed by physical address.
 * Buffers are mapped fresh from the OS (see allocateGuestMemory), so pages nobody touches are never
 * backed by RSS and a collected machine's pages go back at once; nothing here may walk the whole buffer.
 *
 * Where the buffer lives (`GuestMemoryKind`):
 * - `shared`, a SharedArrayBuffer. V8 does not count its bytes as the isolate's external memory,
 *   so a machine's 16 MiB no longer brings on a collection ("external memory pressure"): booting
 *   2,000 machines of 16 MiB measured 35 µs per buffer and 13 GCs, against 1,109 µs and 1,385 GCs
 *   for ArrayBuffers. The cost: the collector does not know about those bytes either, so the
 *   touched pages of a dropped machine return to the OS when a collection finds it, not sooner
 *   (a MemoryRecycler reuses them instead). Only the touched pages: an idle node touches ~40.
 * - `private`, an ArrayBuffer: counted, collected promptly; what a browser page has when it is
 *   not cross-origin isolated (no SharedArrayBuffer), and what one that is should use (its
 *   TextDecoder refuses views of shared memory).
 */

/** Where a machine's guest memory lives; see the file comment. */
export type GuestMemoryKind = 'shared' | 'private';

/**
 * `shared` where SharedArrayBuffer exists outside a browser page (no `crossOriginIsolated` global:
 * Node), else `private`.
 */
export function defaultGuestMemoryKind(): GuestMemoryKind {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: unknown };
  return typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated === undefined ? 'shared' : 'private';
}

/**
 * Outside a browser page, a guest buffer is made resizable (`maxByteLength` = its size, so it never
 * actually resizes). Why: V8 then maps it with its own page allocator (mmap/munmap) instead of the
 * embedder's calloc. glibc's malloc raises its mmap threshold to the size of the last mmap'd chunk
 * freed (up to 32 MiB), so once one machine of 16 MiB has been collected, every later 16 MiB calloc
 * comes from the malloc heap and is zero-filled by memset: all 16 MiB resident at once, and kept by
 * the heap after the machine dies. Measured (Node 20, glibc, 1,000 machines of 16 MiB per round,
 * dropped between rounds): plain SharedArrayBuffers reached 16 GB RSS in round 4 at 69 ms a
 * machine; resizable ones stayed at 204 MB and 0.2 ms in every round. A view of fixed length on such
 * a buffer has the same hidden class as on a plain one (the hot paths stay monomorphic); a
 * length-tracking view does not, so PhysicalMemory's views give their length. In a browser page
 * Web APIs refuse views of resizable buffers (TextDecoder has no [AllowResizable]) and there is no
 * glibc: plain buffers there. An engine without resizable buffers ignores the option.
 */
function pageMapped(): boolean {
  return (globalThis as { crossOriginIsolated?: unknown }).crossOriginIsolated === undefined;
}

/** ES2024's buffer constructors (this repo's lib is older): the second argument makes it resizable. */
type ResizableConstructor<B> = new (byteLength: number, options?: { maxByteLength: number }) => B;

/** A zero-filled guest memory buffer, or an error that names the size and why it failed. */
export function allocateGuestMemory(size: number, kind: GuestMemoryKind): ArrayBufferLike {
  if (kind !== 'shared' && kind !== 'private') {
    throw new RangeError(`guestMemory must be 'shared' or 'private', got ${String(kind)}`);
  }
  if (kind === 'shared' && typeof SharedArrayBuffer !== 'function') {
    throw new RangeError("guestMemory 'shared' needs SharedArrayBuffer, which this host lacks (a browser page that is not cross-origin isolated): use 'private'");
  }
  try {
    const options = pageMapped() ? { maxByteLength: size } : undefined;
    if (kind === 'shared') return new (SharedArrayBuffer as ResizableConstructor<SharedArrayBuffer>)(size, options);
    return new (ArrayBuffer as ResizableConstructor<ArrayBuffer>)(size, options);
  } catch (e) {
    const mib = (size / (1 << 20)).toFixed(size % (1 << 20) === 0 ? 0 : 2);
    throw new RangeError(`could not allocate ${mib} MiB of ${kind} guest memory: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * A zero-filled host-side buffer for a table that grows with a machine but is mostly never written
 * (an allocator's live bitmap, a NIC's transmit slab): mapped like guest memory (see
 * allocateGuestMemory), so only the pages written become resident, nothing is memset, and the pages
 * go back when it is collected. Shared outside a browser page, so V8 does not count it as external
 * memory either (a 64 MiB node's 1 MiB bitmap would otherwise bring collections on). A browser page
 * gets a plain ArrayBuffer. Views over it must give their length (a length-tracking view of a
 * resizable buffer has another hidden class).
 */
export function allocateHostTable(bytes: number): ArrayBufferLike {
  if (!pageMapped() || typeof SharedArrayBuffer !== 'function') return new ArrayBuffer(bytes);
  return new (SharedArrayBuffer as ResizableConstructor<SharedArrayBuffer>)(bytes, { maxByteLength: bytes });
}

/** A contiguous slice of physical memory local to one NUMA node. */
export interface NumaRegion {
  readonly node: number;
  readonly base: number;
  readonly size: number;
}

/** The physical memory of one machine. All multi-byte accessors are little-endian, as on x86. */
export class PhysicalMemory {
  /** Size in bytes. */
  readonly size: number;
  /** The whole memory as bytes (index = physical address). */
  readonly bytes: Uint8Array;
  /** Where the buffer lives: `shared` for a SharedArrayBuffer. */
  get kind(): GuestMemoryKind {
    return typeof SharedArrayBuffer === 'function' && this.bytes.buffer instanceof SharedArrayBuffer ? 'shared' : 'private';
  }
  /** The whole memory as a DataView (offset = physical address). */
  readonly dataView: DataView;
  /** NUMA regions: `numaNodes` equal contiguous slices in node order. */
  readonly regions: readonly NumaRegion[];

  /**
   * @param size bytes; positive multiple of 4096.
   * @param numaNodes number of equal regions to split memory into (each a multiple of 4096).
   * @param buffer a zero-filled buffer of exactly `size` bytes to use (a MemoryRecycler's); default a new one.
   * @param kind where a new buffer lives (default `defaultGuestMemoryKind()`).
   */
  constructor(size: number, numaNodes = 1, buffer?: ArrayBufferLike, kind: GuestMemoryKind = defaultGuestMemoryKind()) {
    if (!Number.isInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new RangeError(`memoryBytes must be a positive multiple of 4096, got ${size}`);
    }
    if (!Number.isInteger(numaNodes) || numaNodes < 1 || (size / numaNodes) % 4096 !== 0) {
      throw new RangeError(
        `numaNodes must be an integer >= 1 dividing memoryBytes (${size}) into 4096-byte multiples, got ${numaNodes}`,
      );
    }
    if (buffer !== undefined && buffer.byteLength !== size) {
      throw new RangeError(`a recycled memory buffer must be ${size} bytes, got ${buffer.byteLength}`);
    }
    buffer ??= allocateGuestMemory(size, kind);
    this.size = size;
    // Fixed-length views (see allocateGuestMemory): monomorphic with every other Uint8Array.
    this.bytes = new Uint8Array(buffer, 0, size);
    this.dataView = new DataView(buffer, 0, size);
    const regionSize = size / numaNodes;
    const regions: NumaRegion[] = [];
    for (let node = 0; node < numaNodes; node++) {
      regions.push(Object.freeze({ node, base: node * regionSize, size: regionSize }));
    }
    this.regions = Object.freeze(regions);
  }

  /** The NUMA region containing `addr`. */
  regionOf(addr: number): NumaRegion {
    this.check(addr, 1);
    return this.regions[Math.floor(addr / this.regions[0].size)];
  }

  /** A live view (no copy) of `len` bytes at `addr`. Writes through it change memory. */
  view(addr: number, len: number): Uint8Array {
    this.check(addr, len);
    return this.bytes.subarray(addr, addr + len);
  }

  readU8(addr: number): number {
    this.check(addr, 1);
    return this.bytes[addr];
  }
  readU16(addr: number): number {
    this.check(addr, 2);
    return this.dataView.getUint16(addr, true);
  }
  readU32(addr: number): number {
    this.check(addr, 4);
    return this.dataView.getUint32(addr, true);
  }
  readU64(addr: number): bigint {
    this.check(addr, 8);
    return this.dataView.getBigUint64(addr, true);
  }
  writeU8(addr: number, value: number): void {
    this.check(addr, 1);
    this.bytes[addr] = value;
  }
  writeU16(addr: number, value: number): void {
    this.check(addr, 2);
    this.dataView.setUint16(addr, value, true);
  }
  writeU32(addr: number, value: number): void {
    this.check(addr, 4);
    this.dataView.setUint32(addr, value, true);
  }
  writeU64(addr: number, value: bigint): void {
    this.check(addr, 8);
    this.dataView.setBigUint64(addr, value, true);
  }

  /** Copy `src` into memory at `addr` (DMA-style write). */
  copyIn(addr: number, src: Uint8Array): void {
    this.check(addr, src.length);
    this.bytes.set(src, addr);
  }

  /** Copy `len` bytes at `addr` out of memory; into `dst` (at 0) if given, else a new array. */
  copyOut(addr: number, len: number, dst?: Uint8Array): Uint8Array {
    this.check(addr, len);
    const out = dst ?? new Uint8Array(len);
    if (out.length < len) {
      throw new RangeError(`copyOut destination holds ${out.length} bytes, need ${len}`);
    }
    out.set(this.bytes.subarray(addr, addr + len));
    return out;
  }

  private check(addr: number, len: number): void {
    // One comparison chain on the fast path; integrality matters because typed arrays truncate.
    if (!(addr >= 0 && len >= 0 && addr + len <= this.size) || Math.floor(addr) !== addr || Math.floor(len) !== len) {
      throw new RangeError(
        `physical access out of bounds: addr=0x${Number.isFinite(addr) ? addr.toString(16) : String(addr)} len=${len} memory size=${this.size}`,
      );
    }
  }
}
