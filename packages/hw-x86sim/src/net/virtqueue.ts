/**
 * A split virtqueue (virtio 1.x §2.7) as the device sees it: the descriptor table, available and
 * used rings in guest physical memory (little-endian), and the device's indices into them. It
 * only reads and writes rings; what a chain means (a frame to send, a buffer to fill) is the
 * device's business.
 */
import type { PhysicalMemory } from '../memory.js';

/** Descriptor flags. */
export const VIRTQ_DESC_F = Object.freeze({ NEXT: 1, WRITE: 2, INDIRECT: 4 });
/** avail.flags: the driver asks for no interrupt on used buffers. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used.flags: the device asks the driver not to notify (it will look at the ring anyway). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Largest queue size (virtio 1.x). */
export const VIRTQ_MAX_SIZE = 32768;

/** Byte sizes and alignments of one split virtqueue of `size` entries (for the driver's allocator). */
export function virtqueueLayout(size: number): {
  descBytes: number;
  availBytes: number;
  usedBytes: number;
  descAlign: 16;
  availAlign: 2;
  usedAlign: 4;
} {
  return {
    descBytes: 16 * size,
    availBytes: 6 + 2 * size,
    usedBytes: 6 + 8 * size,
    descAlign: 16,
    availAlign: 2,
    usedAlign: 4,
  };
}

/** What `setupQueue` takes; the driver allocates the rings in guest physical memory. */
export interface VirtqueueConfig {
  /** Entries: power of two, 1..32768. */
  size: number;
  /** Guest physical address of the descriptor table (16-byte aligned). */
  descAddr: number;
  /** Guest physical address of the available ring (2-byte aligned). */
  availAddr: number;
  /** Guest physical address of the used ring (4-byte aligned). */
  usedAddr: number;
  /** Interrupt vector raised on `core`'s local APIC when used buffers are returned. */
  msixVector: number;
  /** Core index whose APIC gets the interrupt. Default: pair index modulo core count. */
  core?: number;
}

/**
 * Throws a RangeError naming the field of `cfg` that a device cannot use: a size that is not a
 * power of two in range, a ring that is misaligned or not inside `memoryBytes` of guest memory,
 * a vector that is not a byte. (Which core may take the interrupt is the device's to check.)
 */
export function checkVirtqueueConfig(cfg: VirtqueueConfig, memoryBytes: number): void {
  const { size, descAddr, availAddr, usedAddr, msixVector } = cfg;
  if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0) {
    throw new RangeError(`virtqueue size must be a power of two in 1..${VIRTQ_MAX_SIZE}, got ${size}`);
  }
  const lay = virtqueueLayout(size);
  checkRegion('descAddr', descAddr, lay.descBytes, 16, memoryBytes);
  checkRegion('availAddr', availAddr, lay.availBytes, 2, memoryBytes);
  checkRegion('usedAddr', usedAddr, lay.usedBytes, 4, memoryBytes);
  if (!Number.isInteger(msixVector) || msixVector < 0 || msixVector > 255) {
    throw new RangeError(`msixVector must be an integer in 0..255, got ${msixVector}`);
  }
}

function checkRegion(field: string, addr: number, len: number, align: number, memoryBytes: number): void {
  if (!Number.isInteger(addr) || addr < 0 || addr % align !== 0 || addr + len > memoryBytes) {
    throw new RangeError(
      `virtqueue ${field} 0x${Number.isFinite(addr) ? addr.toString(16) : String(addr)} must be ${align}-byte aligned with ${len} bytes inside guest memory (${memoryBytes} bytes)`,
    );
  }
}

/** Read-only view of a configured queue, for tests and debugging. */
export interface VirtqueueState {
  readonly index: number;
  readonly size: number;
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  readonly msixVector: number;
  readonly core: number;
  /** Next avail-ring index the device will consume. */
  readonly lastAvailIdx: number;
  /** Device's used index (also what it last wrote to used.idx). */
  readonly usedIdx: number;
  /** True once an avail-index error stopped this queue. */
  readonly broken: boolean;
}

/**
 * A walked descriptor chain: segment i is (addr[i], len[i]), i < count. One per device, reused by
 * every walk: the device model is on the per-frame path and allocated a segment array, an object
 * per segment and four BigInts per descriptor before.
 */
export class Chain {
  addr: number[] = [];
  len: number[] = [];
  count = 0;
  total = 0;
}

export class Virtqueue implements VirtqueueState {
  lastAvailIdx = 0;
  usedIdx = 0;
  broken = false;
  /** A drain (TX: the avail ring; RX: the backlog) is posted and not yet run. */
  drainPending = false;
  /** RX: frames held while no buffer was posted (VirtioNetOptions.rxBacklogFrames), oldest first. */
  readonly rxBacklog: Uint8Array[] = [];
  /** RX: used.flags is NO_NOTIFY (nothing held; the first delivered frame sets it). */
  rxQuiet = false;
  /** The posted TX drain, made once per queue (not a closure per doorbell). */
  drain: () => void = () => {};
  /** Used entries (chain heads) the device holds back: a late-completion fault. */
  readonly heldUsed: number[] = [];
  /** Their release is scheduled. */
  releaseScheduled = false;
  constructor(
    private readonly mem: PhysicalMemory,
    readonly index: number,
    readonly size: number,
    readonly descAddr: number,
    readonly availAddr: number,
    readonly usedAddr: number,
    readonly msixVector: number,
    readonly core: number,
  ) {}

  /**
   * Entries the driver made available and the device has not consumed; -1 on a bogus index (more
   * than `size` ahead: a driver bug), which breaks the queue until reset.
   */
  pending(): number {
    const availIdx = this.mem.readU16(this.availAddr + 2);
    const pending = (availIdx - this.lastAvailIdx) & 0xffff;
    if (pending > this.size) {
      this.broken = true;
      return -1;
    }
    return pending;
  }

  /** Consumes the next available entry: its head descriptor index. Only after `pending() > 0`. */
  nextAvail(): number {
    const head = this.mem.readU16(this.availAddr + 4 + 2 * (this.lastAvailIdx % this.size));
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    return head;
  }

  /**
   * Walks the descriptor chain at `head` into `chain`, bounds-checking everything: an index out of
   * the table, a NEXT loop, INDIRECT (not negotiated), the wrong WRITE direction, a segment outside
   * memory or a total over `maxBytes` give null.
   */
  walk(head: number, writable: boolean, chain: Chain, maxBytes: number): Chain | null {
    const mem = this.mem;
    const dv = mem.dataView;
    const size = mem.size;
    chain.count = 0;
    let total = 0;
    let i = head;
    for (let steps = 0; ; steps++) {
      if (i >= this.size || steps >= this.size) return null; // out of table, or a NEXT loop
      const d = this.descAddr + 16 * i;
      // addr is a u64: two u32 halves (exact in a double below 2^53; anything that large is out of memory).
      const addr = dv.getUint32(d, true) + dv.getUint32(d + 4, true) * 4294967296;
      const len = dv.getUint32(d + 8, true);
      const flags = dv.getUint16(d + 12, true);
      const next = dv.getUint16(d + 14, true);
      if ((flags & VIRTQ_DESC_F.INDIRECT) !== 0) return null; // not negotiated
      if (((flags & VIRTQ_DESC_F.WRITE) !== 0) !== writable) return null;
      if (addr + len > size) return null;
      total += len;
      if (total > maxBytes) return null; // length overflow
      if (len > 0) {
        chain.addr[chain.count] = addr;
        chain.len[chain.count] = len;
        chain.count++;
      }
      if ((flags & VIRTQ_DESC_F.NEXT) === 0) break;
      i = next;
    }
    chain.total = total;
    return chain;
  }

  /** Returns chain `id` on the used ring with `len` bytes written (entry before idx). */
  pushUsed(id: number, len: number): void {
    const mem = this.mem;
    const e = this.usedAddr + 4 + 8 * (this.usedIdx % this.size);
    mem.writeU32(e, id);
    mem.writeU32(e + 4, len);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    mem.writeU16(this.usedAddr + 2, this.usedIdx);
  }

  writeUsedFlags(flags: number): void {
    this.mem.writeU16(this.usedAddr, flags);
  }

  /** The driver set avail.flags NO_INTERRUPT. */
  interruptSuppressed(): boolean {
    return (this.mem.readU16(this.availAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }
}
