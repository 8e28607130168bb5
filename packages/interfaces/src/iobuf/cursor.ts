/**
 * IOBufCursor: EbbRT's `DataPointer`, a read cursor over an IOBuf chain.
 *
 * Protocol parsers read headers field by field without caring where one
 * element ends and the next begins. When a value lies inside one element it is
 * read straight from the storage's DataView; only values straddling an element
 * boundary are gathered through a small scratch buffer.
 */
import type { IOBuf } from './iobuf.js';
import { IOBufChainPosition } from './position.js';

// Shared scratch for integers split across elements. Safe to share: cursors
// run to completion (no await between gathering and decoding).
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/**
 * Reads integers and byte runs sequentially across the elements of a chain.
 * Every read advances the position; reading past the end throws a RangeError
 * naming the position, the size requested and the chain length, and leaves
 * the cursor where it was.
 */
export class IOBufCursor extends IOBufChainPosition {
  /** A cursor at the start of the chain whose head is `head`. */
  constructor(head: IOBuf) {
    super(head);
  }

  /** An independent cursor at the same position (for look-ahead). */
  clone(): IOBufCursor {
    const c = new IOBufCursor(this.head);
    c._elem = this._elem;
    c._pos = this._pos;
    c._position = this._position;
    return c;
  }

  /** Reads one byte. */
  u8(): number {
    this._need('u8', 1);
    const e = this._elem;
    const v = e.bytes[e.offset + this._pos];
    this._pos++;
    this._position++;
    return v;
  }

  /** Reads a big-endian unsigned 16-bit integer. */
  u16be(): number {
    if (!this._fast('u16be', 2)) return this._gather(2).getUint16(0, false);
    const v = this._elem.storage.dataView.getUint16(this._at(), false);
    this._pos += 2;
    this._position += 2;
    return v;
  }

  /** Reads a little-endian unsigned 16-bit integer. */
  u16le(): number {
    if (!this._fast('u16le', 2)) return this._gather(2).getUint16(0, true);
    const v = this._elem.storage.dataView.getUint16(this._at(), true);
    this._pos += 2;
    this._position += 2;
    return v;
  }

  /** Reads a big-endian unsigned 32-bit integer. */
  u32be(): number {
    if (!this._fast('u32be', 4)) return this._gather(4).getUint32(0, false);
    const v = this._elem.storage.dataView.getUint32(this._at(), false);
    this._pos += 4;
    this._position += 4;
    return v;
  }

  /** Reads a little-endian unsigned 32-bit integer. */
  u32le(): number {
    if (!this._fast('u32le', 4)) return this._gather(4).getUint32(0, true);
    const v = this._elem.storage.dataView.getUint32(this._at(), true);
    this._pos += 4;
    this._position += 4;
    return v;
  }

  /** Reads a big-endian unsigned 64-bit integer. */
  u64be(): bigint {
    if (!this._fast('u64be', 8)) return this._gather(8).getBigUint64(0, false);
    const v = this._elem.storage.dataView.getBigUint64(this._at(), false);
    this._pos += 8;
    this._position += 8;
    return v;
  }

  /** Reads a little-endian unsigned 64-bit integer. */
  u64le(): bigint {
    if (!this._fast('u64le', 8)) return this._gather(8).getBigUint64(0, true);
    const v = this._elem.storage.dataView.getBigUint64(this._at(), true);
    this._pos += 8;
    this._position += 8;
    return v;
  }

  /** The next byte, without advancing. */
  peekU8(): number {
    this._need('peekU8', 1);
    return this._elem.bytes[this._elem.offset + this._pos];
  }

  /** The next big-endian 16-bit integer, without advancing. */
  peekU16be(): number {
    return this.clone().u16be();
  }

  /** The next big-endian 32-bit integer, without advancing. */
  peekU32be(): number {
    return this.clone().u32be();
  }

  /**
   * Reads `n` bytes. When they lie within the current element the result is a
   * subarray **sharing** the storage (no copy; later writes to the storage show
   * through it, and it must not outlive the buffer's release). When they span
   * elements the result is a fresh copy. Callers that need a stable copy either
   * way should use {@link readInto}.
   */
  bytes(n: number): Uint8Array {
    this._need('bytes', n);
    if (n === 0) return new Uint8Array(0);
    const e = this._elem;
    if (e.length - this._pos >= n) {
      const start = e.offset + this._pos;
      this._pos += n;
      this._position += n;
      return e.bytes.subarray(start, start + n);
    }
    const out = new Uint8Array(n);
    this._copyOut(out, 0, n);
    return out;
  }

  /** Copies the next `n` bytes (default `dst.length`) into `dst[0..n)` and advances. */
  readInto(dst: Uint8Array, n: number = dst.length): void {
    if (n > dst.length) {
      throw new RangeError(`IOBufCursor.readInto: ${n} byte(s) exceeds destination length ${dst.length}`);
    }
    this._need('readInto', n);
    this._copyOut(dst, 0, n);
  }

  protected override _name(): string {
    return 'IOBufCursor';
  }

  // True when `n` bytes are available and all in the current element.
  private _fast(op: string, n: number): boolean {
    this._need(op, n);
    return this._elem.length - this._pos >= n;
  }

  // Storage index of the current byte.
  private _at(): number {
    return this._elem.offset + this._pos;
  }

  private _gather(n: number): DataView {
    this._copyOut(scratch, 0, n);
    return scratchView;
  }
}
