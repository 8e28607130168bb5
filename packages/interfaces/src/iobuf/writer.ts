/**
 * IOBufWriter: a write cursor over an IOBuf chain.
 *
 * Used to build protocol headers in place: reserve room (e.g. `retreat()` into
 * headroom), then write fields sequentially, crossing element boundaries
 * transparently. Like the read cursor, values inside one element go straight
 * through the storage's DataView; only values straddling a boundary use a
 * scratch buffer.
 */
import type { IOBuf } from './iobuf.js';
import { IOBufChainPosition } from './position.js';

// Shared scratch for integers split across elements (writers run to
// completion, so sharing is safe).
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/**
 * Writes integers and byte runs sequentially into the existing bytes of a
 * chain (it never grows the chain). Each `setX` writes at the current position
 * and then advances past the written bytes. Integer values are truncated to
 * their width, as DataView does. Writing past the end throws a RangeError
 * naming the position, the size and the chain length, and writes nothing.
 */
export class IOBufWriter extends IOBufChainPosition {
  /** A writer at the start of the chain whose head is `head`. */
  constructor(head: IOBuf) {
    super(head);
  }

  /** An independent writer at the same position (e.g. to back-fill a length field later). */
  clone(): IOBufWriter {
    const w = new IOBufWriter(this.head);
    w._elem = this._elem;
    w._pos = this._pos;
    w._position = this._position;
    return w;
  }

  /** Writes one byte. */
  setU8(value: number): this {
    this._need('setU8', 1);
    const e = this._elem;
    e.bytes[e.offset + this._pos] = value;
    this._pos++;
    this._position++;
    return this;
  }

  /** Writes a big-endian 16-bit integer. */
  setU16be(value: number): this {
    if (this._fast('setU16be', 2)) {
      this._view().setUint16(this._at(), value, false);
      this._pos += 2;
      this._position += 2;
    } else {
      scratchView.setUint16(0, value, false);
      this._copyIn(scratch, 0, 2);
    }
    return this;
  }

  /** Writes a little-endian 16-bit integer. */
  setU16le(value: number): this {
    if (this._fast('setU16le', 2)) {
      this._view().setUint16(this._at(), value, true);
      this._pos += 2;
      this._position += 2;
    } else {
      scratchView.setUint16(0, value, true);
      this._copyIn(scratch, 0, 2);
    }
    return this;
  }

  /** Writes a big-endian 32-bit integer. */
  setU32be(value: number): this {
    if (this._fast('setU32be', 4)) {
      this._view().setUint32(this._at(), value, false);
      this._pos += 4;
      this._position += 4;
    } else {
      scratchView.setUint32(0, value, false);
      this._copyIn(scratch, 0, 4);
    }
    return this;
  }

  /** Writes a little-endian 32-bit integer. */
  setU32le(value: number): this {
    if (this._fast('setU32le', 4)) {
      this._view().setUint32(this._at(), value, true);
      this._pos += 4;
      this._position += 4;
    } else {
      scratchView.setUint32(0, value, true);
      this._copyIn(scratch, 0, 4);
    }
    return this;
  }

  /** Writes a big-endian 64-bit integer. */
  setU64be(value: bigint): this {
    if (this._fast('setU64be', 8)) {
      this._view().setBigUint64(this._at(), value, false);
      this._pos += 8;
      this._position += 8;
    } else {
      scratchView.setBigUint64(0, value, false);
      this._copyIn(scratch, 0, 8);
    }
    return this;
  }

  /** Writes a little-endian 64-bit integer. */
  setU64le(value: bigint): this {
    if (this._fast('setU64le', 8)) {
      this._view().setBigUint64(this._at(), value, true);
      this._pos += 8;
      this._position += 8;
    } else {
      scratchView.setBigUint64(0, value, true);
      this._copyIn(scratch, 0, 8);
    }
    return this;
  }

  /** Copies all of `src` into the chain at the current position and advances. */
  writeBytes(src: Uint8Array): this {
    this._need('writeBytes', src.length);
    this._copyIn(src, 0, src.length);
    return this;
  }

  protected override _name(): string {
    return 'IOBufWriter';
  }

  // True when `n` bytes are available and all in the current element.
  private _fast(op: string, n: number): boolean {
    this._need(op, n);
    return this._elem.length - this._pos >= n;
  }

  private _view(): DataView {
    return this._elem.storage.dataView;
  }

  private _at(): number {
    return this._elem.offset + this._pos;
  }
}
