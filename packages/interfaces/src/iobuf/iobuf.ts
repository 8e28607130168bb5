/**
 * IOBuf: EbbRT's buffer descriptor.
 *
 * An element views `[offset, offset + length)` of an {@link IOBufStorage} and
 * links into a circular doubly linked chain, so a packet can be a header
 * element followed by payload elements without copying any of them. Hot-path
 * accessors (`storage`, `offset`, `length`, `bytes`, `physAddr()`) allocate
 * nothing; methods that copy say so.
 */
import { IOBufCursor } from './cursor.js';
import { IOBufStorage } from './storage.js';
import { IOBufWriter } from './writer.js';

/** Options for {@link IOBuf.allocate}. */
export interface IOBufAllocateOptions {
  /** Bytes reserved before the view for headers added later with `retreat()`. Default 0. */
  headroom?: number;
  /** Initial view length. Default `capacity - headroom` (the buffer is ready to fill). */
  length?: number;
}

const encoder = new TextEncoder();

function checkAmount(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${op}(${n}): amount must be a non-negative integer`);
  }
}

/**
 * One element of an IOBuf chain. The element a caller holds is, by
 * convention, the chain's head; chain-wide operations start from it.
 */
export class IOBuf implements Iterable<IOBuf> {
  private _storage: IOBufStorage;
  private _offset: number;
  private _length: number;
  private _next: IOBuf = this;
  private _prev: IOBuf = this;
  private _released = false;

  /**
   * Views `[offset, offset + length)` of `storage` and takes one reference on
   * it. Prefer the static constructors; this one does validate bounds.
   */
  constructor(storage: IOBufStorage, offset: number, length: number) {
    checkAmount('IOBuf offset', offset);
    checkAmount('IOBuf length', length);
    if (offset + length > storage.bytes.length) {
      throw new RangeError(
        `IOBuf: view [${offset}, ${offset + length}) exceeds storage capacity ${storage.bytes.length}`,
      );
    }
    this._storage = storage.retain();
    this._offset = offset;
    this._length = length;
  }

  // ---------------------------------------------------------------- constructors

  /** A unique buffer over fresh zero-filled JS heap memory of `capacity` bytes. */
  static allocate(capacity: number, options: IOBufAllocateOptions = {}): IOBuf {
    checkAmount('IOBuf.allocate', capacity);
    const headroom = options.headroom ?? 0;
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > capacity) {
      throw new RangeError(`IOBuf.allocate: headroom ${headroom} exceeds capacity ${capacity}`);
    }
    const length = options.length ?? capacity - headroom;
    if (!Number.isInteger(length) || length < 0 || headroom + length > capacity) {
      throw new RangeError(
        `IOBuf.allocate: headroom ${headroom} + length ${length} exceeds capacity ${capacity}`,
      );
    }
    return new IOBuf(IOBufStorage.heap(capacity), headroom, length);
  }

  /** Views all of an existing Uint8Array without copying (physAddr -1, no release hook). */
  static wrap(bytes: Uint8Array): IOBuf {
    return new IOBuf(new IOBufStorage(bytes), 0, bytes.length);
  }

  /**
   * Views `[offset, offset + length)` of an allocator-provided storage, taking
   * one reference on it. A fresh storage (refCount 0) becomes owned solely by
   * the returned element, so releasing it fires the storage's hook.
   */
  static fromStorage(storage: IOBufStorage, offset: number, length: number): IOBuf {
    return new IOBuf(storage, offset, length);
  }

  /** A unique buffer holding a copy of `data` (strings are UTF-8 encoded). Cold path. */
  static copyOf(data: Uint8Array | string): IOBuf {
    const src = typeof data === 'string' ? encoder.encode(data) : data;
    const buf = IOBuf.allocate(src.length);
    buf._storage.bytes.set(src, 0);
    return buf;
  }

  // ---------------------------------------------------------------- accessors

  /** The storage this element views. Throws after release. */
  get storage(): IOBufStorage {
    if (this._released) this._throwReleased('storage');
    return this._storage;
  }

  /** Start of this element's view within `storage.bytes`. */
  get offset(): number {
    return this._offset;
  }

  /** Number of bytes in this element's view. */
  get length(): number {
    return this._length;
  }

  /** The whole backing region (`storage.bytes`); the view is `bytes[offset, offset + length)`. */
  get bytes(): Uint8Array {
    if (this._released) this._throwReleased('bytes');
    return this._storage.bytes;
  }

  /** Size of the storage region. */
  get capacity(): number {
    if (this._released) this._throwReleased('capacity');
    return this._storage.bytes.length;
  }

  /** Next element in the chain (this element itself when alone). */
  get next(): IOBuf {
    return this._next;
  }

  /** Previous element in the chain (the tail, when called on the head). */
  get prev(): IOBuf {
    return this._prev;
  }

  /** True once {@link release} has been called on this element. */
  get isReleased(): boolean {
    return this._released;
  }

  /** Bytes available before the view (room for `retreat()`). */
  headroom(): number {
    return this._offset;
  }

  /** Bytes available after the view (room for `append()`). */
  tailroom(): number {
    if (this._released) this._throwReleased('tailroom');
    return this._storage.bytes.length - this._offset - this._length;
  }

  /** Guest physical address of the first byte of the view, or -1 when the storage has none. */
  physAddr(): number {
    if (this._released) this._throwReleased('physAddr');
    const base = this._storage.physAddr;
    return base < 0 ? -1 : base + this._offset;
  }

  /**
   * This element's view as a Uint8Array. Convenience: it allocates a subarray
   * object (the bytes are shared, not copied), so hot paths should index
   * `bytes` with `offset`/`length` instead.
   */
  data(): Uint8Array {
    if (this._released) this._throwReleased('data');
    return this._storage.bytes.subarray(this._offset, this._offset + this._length);
  }

  // ---------------------------------------------------------------- view adjustment

  /** Drops `n` bytes from the front of the view (they become headroom). */
  advance(n: number): this {
    if (this._released) this._throwReleased('advance');
    if (!Number.isInteger(n) || n < 0 || n > this._length) {
      checkAmount('advance', n);
      throw new RangeError(`advance(${n}) exceeds length ${this._length}`);
    }
    this._offset += n;
    this._length -= n;
    return this;
  }

  /** Grows the view `n` bytes back into the headroom (e.g. to prepend a header). */
  retreat(n: number): this {
    if (this._released) this._throwReleased('retreat');
    if (!Number.isInteger(n) || n < 0 || n > this._offset) {
      checkAmount('retreat', n);
      throw new RangeError(`retreat(${n}) exceeds headroom ${this._offset}`);
    }
    this._offset -= n;
    this._length += n;
    return this;
  }

  /** Drops `n` bytes from the end of the view (they become tailroom). */
  trimEnd(n: number): this {
    if (this._released) this._throwReleased('trimEnd');
    if (!Number.isInteger(n) || n < 0 || n > this._length) {
      checkAmount('trimEnd', n);
      throw new RangeError(`trimEnd(${n}) exceeds length ${this._length}`);
    }
    this._length -= n;
    return this;
  }

  /** Grows the view `n` bytes into the tailroom. */
  append(n: number): this {
    if (this._released) this._throwReleased('append');
    const tail = this._storage.bytes.length - this._offset - this._length;
    if (!Number.isInteger(n) || n < 0 || n > tail) {
      checkAmount('append', n);
      throw new RangeError(`append(${n}) exceeds tailroom ${tail}`);
    }
    this._length += n;
    return this;
  }

  // ---------------------------------------------------------------- chain structure

  /** True when this element is linked to at least one other element. */
  isChained(): boolean {
    return this._next !== this;
  }

  /**
   * Splices `other`'s whole chain onto the end of this element's chain (before
   * this element, treating this element as the head). `other` must not already
   * be in this chain: that would tear the ring, so it throws instead.
   * Returns this (still the head).
   */
  appendChain(other: IOBuf): this {
    this._spliceBefore(other, 'appendChain');
    return this;
  }

  /**
   * Splices `other`'s whole chain in front of this element. In a circular ring
   * this is the same link surgery as {@link appendChain}; what differs is the
   * head: the returned element (`other`) is the new head of the combined chain.
   */
  prependChain(other: IOBuf): IOBuf {
    this._spliceBefore(other, 'prependChain');
    return other;
  }

  /**
   * Removes this element from its chain, leaving the rest of the chain linked
   * and circular, and returns this element (now alone).
   */
  unlink(): this {
    const next = this._next;
    const prev = this._prev;
    prev._next = next;
    next._prev = prev;
    this._next = this;
    this._prev = this;
    return this;
  }

  /**
   * EbbRT's `Pop()`: removes this element (typically the head) from its chain
   * and returns what followed it (the new head of the rest), or null when this
   * element was alone. This element is left alone, still owned by the caller.
   */
  pop(): IOBuf | null {
    const next = this._next;
    if (next === this) return null;
    this.unlink();
    return next;
  }

  /** Number of elements in this chain (1 when alone). */
  countChainElements(): number {
    let n = 1;
    for (let e = this._next; e !== this; e = e._next) n++;
    return n;
  }

  /** Sum of the view lengths of every element in this chain. */
  computeChainDataLength(): number {
    let total = this._length;
    for (let e = this._next; e !== this; e = e._next) total += e._length;
    return total;
  }

  /** Calls `fn` on each element from this one around the ring, allocating nothing. */
  forEachElement(fn: (element: IOBuf, index: number) => void): void {
    let e: IOBuf = this;
    let i = 0;
    do {
      // Read next first so `fn` may unlink the element it is given.
      const next: IOBuf = e._next;
      fn(e, i++);
      e = next;
    } while (e !== this);
  }

  /** Iterates the chain's elements starting at this one. */
  *elements(): IterableIterator<IOBuf> {
    let e: IOBuf = this;
    do {
      const next: IOBuf = e._next;
      yield e;
      e = next;
    } while (e !== this);
  }

  [Symbol.iterator](): IterableIterator<IOBuf> {
    return this.elements();
  }

  // ---------------------------------------------------------------- ownership

  /**
   * A new, unchained element viewing the same storage with the same (but
   * independent) offset and length. The storage becomes shared: writes through
   * either are visible to both.
   */
  clone(): IOBuf {
    if (this._released) this._throwReleased('clone');
    return new IOBuf(this._storage, this._offset, this._length);
  }

  /** Clones every element of this chain, in order, into a new chain; returns its head. */
  cloneChain(): IOBuf {
    const head = this.clone();
    for (let e = this._next; e !== this; e = e._next) head.appendChain(e.clone());
    return head;
  }

  /** True when another element also references this element's storage. */
  isShared(): boolean {
    if (this._released) this._throwReleased('isShared');
    return this._storage.refCount > 1;
  }

  /** True when this element holds the only reference to its storage. */
  isUnique(): boolean {
    if (this._released) this._throwReleased('isUnique');
    return this._storage.refCount === 1;
  }

  /**
   * Releases this element's storage reference. The element is first unlinked
   * from its chain, so the rest of the chain stays valid. Any further use of
   * this element throws; releasing it twice throws.
   */
  release(): void {
    if (this._released) {
      throw new Error('IOBuf: double release (this element was already released)');
    }
    this.unlink();
    this._released = true;
    this._storage.release();
  }

  /** Releases every element of this chain. */
  releaseChain(): void {
    if (this._released) {
      throw new Error('IOBuf: double release (this element was already released)');
    }
    let e: IOBuf = this._next;
    while (e !== this) {
      const next = e._next;
      e.release();
      e = next;
    }
    this.release();
  }

  // ---------------------------------------------------------------- reading / copying

  /** A read cursor at the start of this chain. */
  cursor(): IOBufCursor {
    return new IOBufCursor(this);
  }

  /** A write cursor at the start of this chain. */
  writer(): IOBufWriter {
    return new IOBufWriter(this);
  }

  /** A single contiguous copy of the whole chain's data. Explicit copy: cold path. */
  toUint8Array(): Uint8Array {
    const out = new Uint8Array(this.computeChainDataLength());
    let at = 0;
    let e: IOBuf = this;
    do {
      if (e._released) e._throwReleased('toUint8Array');
      out.set(e._storage.bytes.subarray(e._offset, e._offset + e._length), at);
      at += e._length;
      e = e._next;
    } while (e !== this);
    return out;
  }

  /**
   * A new, unique, unchained buffer holding a contiguous copy of this chain's
   * data; the original chain is untouched. Explicit copy: cold path.
   */
  coalesce(): IOBuf {
    return IOBuf.wrap(this.toUint8Array());
  }

  // ---------------------------------------------------------------- internals

  private _spliceBefore(other: IOBuf, op: string): void {
    if (this._released) this._throwReleased(op);
    if (other._released) other._throwReleased(op);
    // Splicing an element of our own ring would split it into two rings.
    let e: IOBuf = other;
    do {
      if (e === this) throw new Error(`IOBuf: ${op}: the other chain is already part of this chain`);
      e = e._next;
    } while (e !== other);
    const ourTail = this._prev;
    const theirTail = other._prev;
    ourTail._next = other;
    other._prev = ourTail;
    theirTail._next = this;
    this._prev = theirTail;
  }

  private _throwReleased(op: string): never {
    throw new Error(`IOBuf: ${op} on a released IOBuf (use after release)`);
  }
}
