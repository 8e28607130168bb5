import { IOBuf, OutOfMemoryError } from '@ebbrt/interfaces';

/** Size of the scratch buffers small reply text is written into. */
const CHUNK = 4096;
/** Smallest buffer asked for when retrying after an OutOfMemoryError. */
const MIN_RETRY = 64;

/**
 * Builds the reply chain of one receive. Small text (status lines, VALUE
 * headers, binary headers) is written sequentially into a scratch buffer; a
 * stored value is linked in as clones of its views, cutting the scratch into
 * a view before it. So a batch of replies is a few header views interleaved
 * with value views, sent with one `sendQueued`, and no value byte is copied.
 *
 * The scratch storage is kept across batches while it has room: views already
 * handed to the stack cover only bytes before `pos`, which are never rewritten.
 */
export class ReplyBuilder {
  private scratch: IOBuf | null = null;
  /** Storage index where the not-yet-cut segment starts, and the write position. */
  private segStart = 0;
  private pos = 0;
  private end = 0;
  private out: IOBuf | null = null;

  /**
   * @param allocate buffer allocator (may throw OutOfMemoryError)
   * @param onOutOfMemory called once on OutOfMemoryError to free memory before the one retry
   */
  constructor(
    private readonly allocate: (size: number) => IOBuf,
    private readonly onOutOfMemory: (bytes: number) => void,
  ) {}

  /** True when nothing has been written since the last finish(). */
  get empty(): boolean {
    return this.out === null && this.pos === this.segStart;
  }

  /** Makes room for `n` contiguous bytes; returns the storage array to write at `this.at`. */
  reserve(n: number): Uint8Array {
    if (this.scratch === null || this.end - this.pos < n) this.refill(n);
    return this.scratch!.bytes;
  }

  /** Current write index into the array returned by reserve(). */
  get at(): number {
    return this.pos;
  }

  /** Commits `n` bytes written at `at`. */
  commit(n: number): void {
    this.pos += n;
  }

  /** Writes an ASCII (latin1) string. */
  text(s: string): void {
    const n = s.length;
    const b = this.reserve(n);
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Writes bytes from `src[start, end)`. */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const b = this.reserve(n);
    b.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Writes a non-negative integer (< 2^53) in decimal without allocating. */
  decimal(v: number): void {
    const b = this.reserve(20);
    if (v === 0) {
      b[this.pos++] = 0x30;
      return;
    }
    let digits = 0;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) b[--p] = 0x30 + (t % 10);
  }

  u8(v: number): void {
    const b = this.reserve(1);
    b[this.pos++] = v;
  }

  u16(v: number): void {
    const b = this.reserve(2);
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    const b = this.reserve(4);
    b[this.pos++] = (v >>> 24) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  /** Writes a non-negative integer < 2^53 as a big-endian u64. */
  u64(v: number): void {
    this.u32(Math.floor(v / 0x1_0000_0000));
    this.u32(v >>> 0);
  }

  /** Writes a bigint < 2^64 as a big-endian u64. */
  u64big(v: bigint): void {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    this.u32(Number(v & 0xffffffffn));
  }

  /** Links a chain (taking ownership) after what was written so far. */
  chain(c: IOBuf): void {
    this.cut();
    if (this.out === null) this.out = c;
    else this.out.appendChain(c);
  }

  /** The reply chain built since the last call (null when nothing), ready for sendQueued. */
  finish(): IOBuf | null {
    this.cut();
    const out = this.out;
    this.out = null;
    return out;
  }

  /** Drops whatever was built and the scratch buffer. */
  dispose(): void {
    const out = this.finish();
    if (out !== null) out.releaseChain();
    if (this.scratch !== null) this.scratch.release();
    this.scratch = null;
  }

  private cut(): void {
    if (this.pos === this.segStart) return;
    const view = IOBuf.fromStorage(this.scratch!.storage, this.segStart, this.pos - this.segStart);
    this.segStart = this.pos;
    if (this.out === null) this.out = view;
    else this.out.appendChain(view);
  }

  private refill(n: number): void {
    this.cut();
    let buf: IOBuf;
    try {
      buf = this.allocate(Math.max(CHUNK, n));
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      // Under memory pressure ask for just what this write needs, after freeing that much.
      const size = Math.max(MIN_RETRY, n);
      this.onOutOfMemory(size);
      buf = this.allocate(size); // a second OutOfMemoryError propagates to the session
    }
    if (this.scratch !== null) this.scratch.release();
    this.scratch = buf;
    this.segStart = this.pos = buf.offset;
    this.end = buf.offset + buf.length;
  }
}
