import type { IOBuf } from '@ebbrt/interfaces';

/**
 * The unparsed bytes of one connection: the chains handed to `receive`
 * (owned), linked into one chain and consumed from the front. A request (or a
 * value) split over many segments simply waits here until it is complete.
 * Values are taken out as views (`take`), never copied; only command lines and
 * binary headers are copied into the parser's small scratch buffers.
 */
export class InputQueue {
  private head: IOBuf | null = null;
  private _length = 0;

  /** Bytes waiting. */
  get length(): number {
    return this._length;
  }

  /** Appends a received chain, taking ownership of it. */
  push(chain: IOBuf): void {
    const n = chain.computeChainDataLength();
    if (n === 0) {
      chain.releaseChain();
      return;
    }
    if (this.head === null) this.head = chain;
    else this.head.appendChain(chain);
    this._length += n;
  }

  /** The byte at logical offset `at` (< length). */
  byteAt(at: number): number {
    let e = this.head!;
    let skip = at;
    while (skip >= e.length) {
      skip -= e.length;
      e = e.next;
    }
    return e.bytes[e.offset + skip];
  }

  /** Offset of the first `byte` in [from, limit), or -1. */
  indexOf(byte: number, from: number, limit: number): number {
    const head = this.head;
    if (head === null) return -1;
    const end = Math.min(limit, this._length);
    let base = 0;
    let e = head;
    do {
      const len = e.length;
      if (base + len > from && len > 0) {
        const start = from > base ? from - base : 0;
        const stop = Math.min(len, end - base);
        if (start < stop) {
          const bytes = e.bytes;
          const off = e.offset;
          const i = bytes.indexOf(byte, off + start);
          if (i >= 0 && i < off + stop) return base + (i - off);
        }
      }
      base += len;
      e = e.next;
    } while (e !== head && base < end);
    return -1;
  }

  /**
   * Copies the first `n` bytes into `dst[0, n)` without consuming them. Headers and keys are a
   * few dozen bytes: a byte loop, since a subarray per run (a Buffer's, when the bytes came from
   * node:net) cost more than the copy.
   */
  copyOut(n: number, dst: Uint8Array): void {
    let e = this.head!;
    let at = 0;
    while (at < n) {
      const run = Math.min(e.length, n - at);
      const bytes = e.bytes;
      const off = e.offset;
      if (run <= 64) for (let i = 0; i < run; i++) dst[at + i] = bytes[off + i];
      else dst.set(bytes.subarray(off, off + run), at);
      at += run;
      e = e.next;
    }
  }

  /** Removes `n` bytes from the front and returns them as a chain of views (null when n = 0). */
  take(n: number): IOBuf | null {
    if (n > this._length) throw new RangeError(`InputQueue.take(${n}) exceeds ${this._length} bytes`);
    let out: IOBuf | null = null;
    let left = n;
    while (left > 0) {
      const e = this.head!;
      if (e.length <= left) {
        // The whole element moves over: no new descriptor.
        left -= e.length;
        this.head = e.pop();
        if (e.length === 0) e.release();
        else if (out === null) out = e;
        else out.appendChain(e);
      } else {
        const part = e.clone().trimEnd(e.length - left);
        e.advance(left);
        left = 0;
        if (out === null) out = part;
        else out.appendChain(part);
      }
    }
    this._length -= n;
    return out;
  }

  /** Discards `n` bytes from the front. */
  skip(n: number): void {
    if (n > this._length) throw new RangeError(`InputQueue.skip(${n}) exceeds ${this._length} bytes`);
    let left = n;
    while (left > 0 || (this.head !== null && this.head.length === 0)) {
      const e = this.head!;
      if (e.length <= left) {
        left -= e.length;
        this.head = e.pop();
        e.release();
      } else {
        e.advance(left);
        left = 0;
      }
    }
    this._length -= n;
  }

  /** Releases everything. */
  clear(): void {
    if (this.head !== null) this.head.releaseChain();
    this.head = null;
    this._length = 0;
  }
}
