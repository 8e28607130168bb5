/**
 * IOBufs whose storage is a view of simulated physical memory. The storage's
 * release hook gives the object back to the allocator, on the core that drops
 * the last reference (a remote free if that is not the owner). The tracker
 * keeps the live set (address -> size, never the storage itself, so it does
 * not keep buffers alive) and a FinalizationRegistry that reports buffers the
 * garbage collector reclaimed without a release: memory the allocator will
 * never get back.
 */
import { IOBuf, IOBufStorage, type IOBufReleaseHook } from '@ebbrt/interfaces';
import type { PhysicalMemory } from '@ebbrt/hw-x86sim';

export interface LeakReport {
  readonly address: number;
  readonly size: number;
  readonly core: number;
}

export class IOBufTracker {
  private readonly live = new Map<number, LeakReport>();
  private readonly registry: FinalizationRegistry<number>;
  /** Buffers collected without release, oldest first. */
  readonly leaks: LeakReport[] = [];

  constructor(
    private readonly memory: PhysicalMemory,
    private readonly free: (addr: number) => void,
    private readonly onLeak?: (leak: LeakReport) => void,
  ) {
    this.registry = new FinalizationRegistry((addr) => {
      const r = this.live.get(addr);
      if (r === undefined) return;
      this.live.delete(addr);
      this.leaks.push(r);
      this.onLeak?.(r);
    });
  }

  // One hook per allocator, not per buffer: the storage carries its address.
  private readonly hook: IOBufReleaseHook = (storage) => {
    this.live.delete(storage.physAddr);
    this.registry.unregister(storage);
    this.free(storage.physAddr);
  };

  /** Wraps `size` bytes at `addr` (already allocated) as an IOBuf; no bytes are copied. */
  wrap(addr: number, size: number, core: number): IOBuf {
    const storage = new IOBufStorage(this.memory.view(addr, size), { physAddr: addr, onRelease: this.hook });
    this.live.set(addr, { address: addr, size, core });
    this.registry.register(storage, addr, storage);
    return IOBuf.fromStorage(storage, 0, size);
  }

  /** IOBufs allocated and not yet released (leak check for tests and shutdown). */
  liveBuffers(): LeakReport[] {
    return [...this.live.values()];
  }

  get liveCount(): number {
    return this.live.size;
  }
}
