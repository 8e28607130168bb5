// Out-of-order receive queue: segments are held as IOBuf views (of the driver's RX buffers,
// zero copy) sorted by sequence number until the gap before them fills. Overlaps and
// duplicates are resolved when draining: whatever lies before rcvNxt is trimmed or released.

import type { IOBuf } from '@ebbrt/interfaces';
import { seqAdd, seqDiff, seqGt, seqLeq, seqLt } from './seq.js';

export interface OooSegment {
  seq: number;
  /** Payload (may be empty when only a FIN is held). Owned by the queue. */
  data: IOBuf;
  fin: boolean;
}

export class ReassemblyQueue {
  private readonly segs: OooSegment[] = [];
  bytes = 0;

  constructor(readonly maxSegments = 512) {}

  get size(): number {
    return this.segs.length;
  }

  /**
   * Takes ownership of `data`. Returns false (and releases it) when it duplicates a held segment
   * or the queue is full.
   */
  insert(seq: number, data: IOBuf, fin: boolean): boolean {
    const segs = this.segs;
    const len = data.length;
    const end = seqAdd(seq, len);
    // Binary search for the first segment with seq > new seq.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqLeq(segs[mid]!.seq, seq)) lo = mid + 1;
      else hi = mid;
    }
    // Fully covered by the previous segment (or one with the same start)?
    const prev = lo > 0 ? segs[lo - 1] : undefined;
    if (prev !== undefined && seqLeq(end, seqAdd(prev.seq, prev.data.length)) && (!fin || prev.fin)) {
      data.release();
      return false;
    }
    if (segs.length >= this.maxSegments) {
      data.release();
      return false;
    }
    segs.splice(lo, 0, { seq, data, fin });
    this.bytes += len;
    return true;
  }

  /**
   * Removes the segments that now continue the stream at `rcvNxt`, trimmed to start exactly
   * there, calling `deliver` in order; returns the new rcvNxt (and whether a FIN was reached,
   * via `onFin`). Segments entirely before rcvNxt are released.
   */
  drain(rcvNxt: number, deliver: (data: IOBuf) => void, onFin: () => void): number {
    const segs = this.segs;
    let i = 0;
    while (i < segs.length) {
      const s = segs[i]!;
      if (seqGt(s.seq, rcvNxt)) break;
      i++;
      const len = s.data.length;
      this.bytes -= len;
      const end = seqAdd(s.seq, len);
      if (seqLt(rcvNxt, end)) {
        s.data.advance(seqDiff(rcvNxt, s.seq));
        rcvNxt = end;
        deliver(s.data);
      } else {
        s.data.release();
      }
      if (s.fin && rcvNxt === end) {
        // FIN reached: everything after it is garbage.
        for (let j = i; j < segs.length; j++) segs[j]!.data.release();
        segs.length = 0;
        this.bytes = 0;
        onFin();
        return rcvNxt;
      }
    }
    segs.splice(0, i);
    return rcvNxt;
  }

  clear(): void {
    for (const s of this.segs) s.data.release();
    this.segs.length = 0;
    this.bytes = 0;
  }
}
