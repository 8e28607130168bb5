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
  /** Sequence number of the latest segment inserted (the first SACK block reports it). */
  private latest = 0;

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
    this.latest = seq;
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

  /**
   * The held data as SACK blocks (RFC 2018 4): up to `maxBlocks` [left, right) pairs into `out`
   * (cleared first), the block holding the most recent arrival first, then the others in
   * sequence order. Contiguous and overlapping segments merge into one block.
   */
  sackBlocks(out: number[], maxBlocks: number): void {
    out.length = 0;
    const segs = this.segs;
    let first = -1;
    let i = 0;
    while (i < segs.length) {
      const s = segs[i]!;
      const left = s.seq;
      let right = seqAdd(s.seq, s.data.length);
      let hasLatest = s.seq === this.latest;
      i++;
      while (i < segs.length && seqLeq(segs[i]!.seq, right)) {
        const t = segs[i]!;
        const e = seqAdd(t.seq, t.data.length);
        if (seqGt(e, right)) right = e;
        if (t.seq === this.latest) hasLatest = true;
        i++;
      }
      if (left === right) continue; // a FIN alone
      if (hasLatest && first < 0) first = out.length;
      out.push(left, right);
    }
    if (first > 0) {
      const l = out[first]!;
      const r = out[first + 1]!;
      out.copyWithin(2, 0, first);
      out[0] = l;
      out[1] = r;
    }
    if (out.length > 2 * maxBlocks) out.length = 2 * maxBlocks;
  }

  clear(): void {
    for (const s of this.segs) s.data.release();
    this.segs.length = 0;
    this.bytes = 0;
  }
}
