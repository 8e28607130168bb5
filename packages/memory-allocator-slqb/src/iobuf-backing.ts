/**
 * IOBufs whose storage is a view of simulated physical memory. The storage's
 * release hook gives the object back to the allocator, on the core that drops
 * the last reference (a remote free if that is not the owner). The tracker
 * keeps the live set (address -> size and core, never the storage itself, so
 * it does not keep buffers alive) and a FinalizationRegistry that reports
 * buffers the garbage collector reclaimed without a release: memory the
 * allocator will never get back.
 *
 * Registration is deferred. FinalizationRegistry.register + unregister cost
 * ~330 ns per buffer (measured, Node 20: 500 ns per wrap+release with them,
 * 170 ns without), more than the rest of a wrap, and most network buffers
 * (TX headers and copies, posted RX buffers, segment views) are released
 * soon after. So a wrap only queues the storage, in two generations: a flush
 * registers the storages of the OLD generation that are still unreleased
 * (dropping the rest) and makes the young one old. Flushes happen every
 * FLUSH_AT wraps and on a Node timer (every FLUSH_AFTER_MS while anything is
 * queued), so a buffer is registered only once it survived at least one
 * whole flush interval, and a leak is still reported within about two
 * intervals after the program goes idle. The queues hold storages strongly
 * only until then; they never read the simulation's clock or post simulation
 * events, so runs stay deterministic.
 */
import { IOBuf, IOBufStorage, type IOBufReleaseHook, type LiveIOBuf } from '@ebbrt/interfaces';
import type { PhysicalMemory } from '@ebbrt/hw-x86sim';

/** A live (or leaked) IOBuf: SLQB always knows the allocating core. */
export interface LeakReport extends LiveIOBuf {
  readonly core: number;
}

/** Wraps per flush interval (a posted RX buffer lives ~rxRingSize frames: far fewer). */
const FLUSH_AT = 8192;
/** Time-based flush, so an idle program still gets its leaks registered (unref'd Node timer: never keeps a process alive). */
const FLUSH_AFTER_MS = 20;
/**
 * Live-set values pack (size, core, registered) in one number: no object per buffer. 0 = not
 * live: a release overwrites the entry instead of deleting it, because V8's Map never reuses a
 * deleted slot before a rehash of the whole table, so set/delete churn on a big live set (the
 * memcached store pins ~100k received buffers) cost ~650 ns per wrap against ~10 ns for an
 * in-place overwrite. The map holds one entry per address ever wrapped, which the slab
 * allocator's address reuse bounds by the peak live set.
 */
const CORE_SPAN = 65536;
const pack = (size: number, core: number, registered: boolean): number => (size * CORE_SPAN + core) * 2 + (registered ? 1 : 0);

export class IOBufTracker {
  private readonly live = new Map<number, number>();
  private _liveCount = 0;
  private readonly registry: FinalizationRegistry<number>;
  /** Wrapped storages since the last flush, and those of the interval before (strong references until registered or dropped). */
  private young: IOBufStorage[] = [];
  private old: IOBufStorage[] = [];
  private flushArmed = false;
  /** Buffers collected without release, oldest first. */
  readonly leaks: LeakReport[] = [];

  constructor(
    private readonly memory: PhysicalMemory,
    private readonly free: (addr: number) => void,
    private readonly onLeak?: (leak: LeakReport) => void,
  ) {
    this.registry = new FinalizationRegistry((addr) => {
      const v = this.live.get(addr);
      if (v === undefined || v === 0) return;
      this.live.set(addr, 0);
      this._liveCount--;
      const r = unpack(addr, v);
      this.leaks.push(r);
      this.onLeak?.(r);
    });
  }

  // One hook per allocator, not per buffer: the storage carries its address.
  private readonly hook: IOBufReleaseHook = (storage) => {
    const addr = storage.physAddr;
    const v = this.live.get(addr);
    if (v !== undefined && v !== 0) {
      this.live.set(addr, 0);
      this._liveCount--;
      if (v % 2 === 1) this.registry.unregister(storage);
    }
    this.free(addr);
  };

  private readonly onTimer = (): void => {
    this.flushArmed = false;
    this.flush();
    if (this.old.length > 0) this.arm();
  };

  private arm(): void {
    this.flushArmed = true;
    const t = setTimeout(this.onTimer, FLUSH_AFTER_MS);
    // Node: never hold the process open for a flush; a browser's timer id has no unref.
    if (typeof t === 'object' && 'unref' in t) t.unref();
  }

  /** Wraps `size` bytes at `addr` (already allocated) as an IOBuf; no bytes are copied. */
  wrap(addr: number, size: number, core: number): IOBuf {
    const storage = new IOBufStorage(this.memory.view(addr, size), { physAddr: addr, onRelease: this.hook });
    this.live.set(addr, pack(size, core, false));
    this._liveCount++;
    if (this.young.push(storage) >= FLUSH_AT) this.flush();
    if (!this.flushArmed) this.arm();
    return IOBuf.fromStorage(storage, 0, size);
  }

  /** Registers the old generation's storages that are still unreleased; the young generation becomes old. */
  private flush(): void {
    const q = this.old;
    this.old = this.young;
    this.young = [];
    for (let i = 0; i < q.length; i++) {
      const s = q[i]!;
      if (s.isReleased) continue;
      const addr = s.physAddr;
      const v = this.live.get(addr);
      if (v === undefined || v === 0 || v % 2 === 1) continue;
      this.live.set(addr, v + 1);
      this.registry.register(s, addr, s);
    }
  }

  /** IOBufs allocated and not yet released (leak check for tests and shutdown). */
  liveBuffers(): LeakReport[] {
    const out: LeakReport[] = [];
    for (const [addr, v] of this.live) if (v !== 0) out.push(unpack(addr, v));
    return out;
  }

  get liveCount(): number {
    return this._liveCount;
  }
}

function unpack(address: number, v: number): LeakReport {
  const sc = Math.floor(v / 2);
  return { address, size: Math.floor(sc / CORE_SPAN), core: sc % CORE_SPAN };
}
