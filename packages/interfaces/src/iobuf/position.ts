/**
 * A position within an IOBuf chain: the navigation shared by the read cursor
 * ({@link IOBufCursor}) and the write cursor ({@link IOBufWriter}).
 *
 * It is a byte offset into the chain's logical data plus the element and
 * in-element index where that byte lives, so that sequential access costs O(1)
 * per element crossed and nothing is allocated.
 */
import type { IOBuf } from './iobuf.js';

/**
 * Base of the chain cursors. The chain's total length is measured when the
 * cursor is created; mutating the chain's structure or lengths while a cursor
 * is in use is not supported (the cursor notices only if it runs off the ring).
 */
export class IOBufChainPosition {
  /** Head of the chain being traversed. */
  readonly head: IOBuf;
  /** Current element. */
  protected _elem: IOBuf;
  /** Index within the current element's view (0..length). */
  protected _pos = 0;
  /** Logical offset from the start of the chain. */
  protected _position = 0;
  /** Chain data length measured at construction. */
  protected readonly _total: number;

  constructor(head: IOBuf) {
    if (head.isReleased) throw new Error(`${this._name()}: created on a released IOBuf (use after release)`);
    this.head = head;
    this._elem = head;
    this._total = head.computeChainDataLength();
  }

  /** Bytes consumed from the start of the chain. */
  get position(): number {
    return this._position;
  }

  /** Total chain data length (as measured when the cursor was created). */
  get chainLength(): number {
    return this._total;
  }

  /** Bytes left between the position and the end of the chain. */
  remaining(): number {
    return this._total - this._position;
  }

  /** Moves the position forward `n` bytes without touching them. */
  skip(n: number): this {
    this._need('skip', n);
    let left = n;
    while (left > 0) {
      this._settle();
      const run = Math.min(left, this._elem.length - this._pos);
      this._pos += run;
      left -= run;
    }
    this._position += n;
    return this;
  }

  /** Moves the position back to the start of the chain. */
  rewind(): this {
    this._elem = this.head;
    this._pos = 0;
    this._position = 0;
    return this;
  }

  /**
   * Checks that `n` bytes remain, throwing a RangeError that names the
   * position, the request and the chain length otherwise (leaving the cursor
   * unchanged). On success, when `n > 0`, positions on an element that has at
   * least one byte available, so callers can try a single-element fast path.
   */
  protected _need(op: string, n: number): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`${this._name()}.${op}: size ${n} must be a non-negative integer`);
    }
    if (n > this._total - this._position) {
      throw new RangeError(
        `${this._name()}.${op}: ${n} byte(s) at position ${this._position} exceeds chain length ${this._total}`,
      );
    }
    if (n > 0) this._settle();
  }

  /** Steps past exhausted (or empty) elements. Only call when bytes remain. */
  protected _settle(): void {
    while (this._pos >= this._elem.length) {
      const next = this._elem.next;
      if (next === this.head) {
        throw new Error(`${this._name()}: the chain was modified while the cursor was in use`);
      }
      this._elem = next;
      this._pos = 0;
    }
  }

  /** Copies `n` chain bytes into `dst[dstOffset..]` and advances. Caller has checked `n`. */
  protected _copyOut(dst: Uint8Array, dstOffset: number, n: number): void {
    let left = n;
    let at = dstOffset;
    while (left > 0) {
      this._settle();
      const e = this._elem;
      const run = Math.min(left, e.length - this._pos);
      const start = e.offset + this._pos;
      const src = e.bytes;
      if (run <= 16) {
        // Short runs (integers split across elements) are cheaper byte by byte
        // than creating a subarray for TypedArray.set.
        for (let i = 0; i < run; i++) dst[at + i] = src[start + i];
      } else {
        dst.set(src.subarray(start, start + run), at);
      }
      this._pos += run;
      at += run;
      left -= run;
    }
    this._position += n;
  }

  /** Copies `src[srcOffset..srcOffset+n)` into the chain and advances. Caller has checked `n`. */
  protected _copyIn(src: Uint8Array, srcOffset: number, n: number): void {
    let left = n;
    let at = srcOffset;
    while (left > 0) {
      this._settle();
      const e = this._elem;
      const run = Math.min(left, e.length - this._pos);
      const start = e.offset + this._pos;
      const dst = e.bytes;
      if (run <= 16) {
        for (let i = 0; i < run; i++) dst[start + i] = src[at + i];
      } else {
        dst.set(src.subarray(at, at + run), start);
      }
      this._pos += run;
      at += run;
      left -= run;
    }
    this._position += n;
  }

  /** Name used in error messages. */
  protected _name(): string {
    return 'IOBufChainPosition';
  }
}
