import { defaultGuestMemoryKind, type GuestMemoryKind } from './memory.js';

/**
 * Machine memories handed from one finished simulation to the next: a seed search boots the same
 * machines seed after seed, and a fresh 32 MiB ArrayBuffer per machine per seed is what drives
 * V8's collector (each new backing store beside young ones forces a scavenge for "external memory
 * pressure", and the growth of external memory brings on mark-compacts). A recycled buffer is
 * zero-filled again before reuse, so a machine sees the same fresh memory either way.
 *
 * One owner (a seed runner) holds one; nothing is shared between owners. It keeps at most
 * `maxBytes` of idle buffers (default 1 GiB) and drops the rest to the collector.
 */
export class MemoryRecycler {
  /** Idle buffers by size, shared ones under the negated size: a machine gets back the kind it asked for. */
  private readonly idle = new Map<number, ArrayBufferLike[]>();
  private idleBytes = 0;
  /** Buffers handed out again, and buffers taken back: what a bench or test can check. */
  reused = 0;
  returned = 0;

  constructor(readonly maxBytes = 1 << 30) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`MemoryRecycler maxBytes must be an integer >= 0, got ${maxBytes}`);
  }

  /** A zero-filled buffer of exactly `size` bytes and of `kind`, if one is idle. */
  take(size: number, kind: GuestMemoryKind = defaultGuestMemoryKind()): ArrayBufferLike | undefined {
    const buffer = this.idle.get(kind === 'shared' ? -size : size)?.pop();
    if (buffer === undefined) return undefined;
    this.idleBytes -= size;
    new Uint8Array(buffer).fill(0);
    this.reused++;
    return buffer;
  }

  /** Keeps `buffer` for a later machine. Its owner must never touch it again. */
  give(buffer: ArrayBufferLike): void {
    if (this.idleBytes + buffer.byteLength > this.maxBytes) return;
    const shared = typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
    const key = shared ? -buffer.byteLength : buffer.byteLength;
    let list = this.idle.get(key);
    if (list === undefined) this.idle.set(key, (list = []));
    if (list.includes(buffer)) return;
    list.push(buffer);
    this.idleBytes += buffer.byteLength;
    this.returned++;
  }
}
