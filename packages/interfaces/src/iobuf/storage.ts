/**
 * The byte region that IOBuf elements view.
 *
 * EbbRT separates *what memory a buffer lives in* from *which window of it a
 * buffer descriptor covers*: many descriptors (clones) may view one region, and
 * the region goes back to whoever allocated it only when the last descriptor is
 * done with it. `IOBufStorage` is that region plus its reference count.
 */

/**
 * Called exactly once, when the last reference to a storage is released.
 * This is how an allocator (page allocator, slab cache, virtio ring) gets its
 * memory back: it creates the storage with a hook that frees the region.
 */
export type IOBufReleaseHook = (storage: IOBufStorage) => void;

/** Options for {@link IOBufStorage}'s constructor. */
export interface IOBufStorageOptions {
  /**
   * Guest physical address of `bytes[0]` when the region is a view of simulated
   * physical memory (so devices can DMA to it); -1 (the default) otherwise.
   */
  physAddr?: number;
  /** Called once when the last reference is released. */
  onRelease?: IOBufReleaseHook;
}

/**
 * A reference-counted byte region.
 *
 * Lifecycle: a storage starts with **zero** references and is *unowned*; every
 * IOBuf element that views it takes one reference ({@link retain}) and gives it
 * back ({@link release}). When the count returns to zero the storage is *dead*:
 * the release hook fires (once), and further retain/release calls throw. This
 * convention means `IOBuf.fromStorage(new IOBufStorage(...), ...)` leaves the
 * new element as the sole owner, with no extra reference for the caller to drop.
 */
export class IOBufStorage {
  /** The whole backing region (not just the part any element views). */
  readonly bytes: Uint8Array;
  /** Guest physical address of `bytes[0]`, or -1 when not backed by simulated memory. */
  readonly physAddr: number;

  private _refs = 0;
  private _dead = false;
  private _onRelease: IOBufReleaseHook | undefined;
  private _view: DataView | undefined;

  constructor(bytes: Uint8Array, options: IOBufStorageOptions = {}) {
    const physAddr = options.physAddr ?? -1;
    if (!Number.isInteger(physAddr) || physAddr < -1) {
      throw new RangeError(`IOBufStorage: physAddr must be a non-negative integer or -1, got ${physAddr}`);
    }
    this.bytes = bytes;
    this.physAddr = physAddr;
    this._onRelease = options.onRelease;
  }

  /** Storage over a fresh, zero-filled JS heap array of `size` bytes (physAddr -1). */
  static heap(size: number): IOBufStorage {
    return new IOBufStorage(new Uint8Array(size));
  }

  /** Size of the whole region in bytes. */
  get capacity(): number {
    return this.bytes.length;
  }

  /** Number of live references (elements viewing this storage). */
  get refCount(): number {
    return this._refs;
  }

  /** True once the last reference has been released (the hook has fired). */
  get isReleased(): boolean {
    return this._dead;
  }

  /**
   * A DataView over exactly `bytes`, created on first use and then reused, so
   * integer reads on the hot path allocate nothing.
   */
  get dataView(): DataView {
    let v = this._view;
    if (v === undefined) {
      const b = this.bytes;
      v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this._view = v;
    }
    return v;
  }

  /** Take one reference. Throws if the storage has already been released to zero. */
  retain(): this {
    if (this._dead) {
      throw new Error('IOBufStorage: retain() after the storage was released (use after release)');
    }
    this._refs++;
    return this;
  }

  /**
   * Drop one reference. When it was the last one, marks the storage dead and
   * calls the release hook (exactly once). Returns true when this call released
   * the storage. Releasing more times than retained throws instead of
   * underflowing, because an underflow would hand memory back to an allocator
   * while some other element may still be using it.
   */
  release(): boolean {
    if (this._refs <= 0) {
      throw new Error(
        this._dead
          ? 'IOBufStorage: double release (the storage was already released)'
          : 'IOBufStorage: release() without a matching retain() (refCount is 0)',
      );
    }
    this._refs--;
    if (this._refs > 0) return false;
    // Mark dead before calling out, so a hook that throws or re-enters still
    // sees a consistent, released storage.
    this._dead = true;
    const hook = this._onRelease;
    this._onRelease = undefined;
    if (hook !== undefined) hook(this);
    return true;
  }
}
