// SACK (RFC 2018) and SACK-based loss recovery (RFC 6675). The receiver side reports the
// out-of-order data it holds (ReassemblyQueue.sackBlocks); the sender keeps a scoreboard on its
// unacknowledged segments (SendSeg.sacked), estimates what is in flight (the pipe) and, in
// recovery, retransmits every hole the SACKs show as lost before sending new data, instead of
// one hole per round trip as NewReno does.

import type { TcpPcb } from './pcb.js';
import { transmitSeg } from './output.js';
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from './seq.js';
import type { TcpStack } from './stack.js';
import { segEnd } from './types.js';

/** RFC 6675 DupThresh. */
export const DUP_THRESH = 3;

/**
 * Marks the unacknowledged segments that the SACK blocks [left0, right0, left1, ...] cover.
 * Blocks outside (SND.UNA, SND.MAX] (D-SACKs, stale or forged ones) are ignored.
 * Returns the number of segments newly marked.
 */
export function updateScoreboard(stack: TcpStack, pcb: TcpPcb, blocks: readonly number[]): number {
  let marked = 0;
  const q = pcb.unacked;
  for (let b = 0; b + 1 < blocks.length; b += 2) {
    const left = blocks[b]!;
    const right = blocks[b + 1]!;
    if (!seqLt(left, right) || !seqGt(left, pcb.sndUna) || seqGt(right, pcb.sndMax)) continue;
    stack.stats.sackBlocksIn++;
    for (let i = 0; i < q.length; i++) {
      const s = q[i]!;
      if (seqGeq(s.seq, right)) break;
      if (!s.sacked && s.len > 0 && seqGeq(s.seq, left) && seqLeq(segEnd(s), right)) {
        s.sacked = true;
        marked++;
      }
    }
  }
  return marked;
}

/** Forgets the scoreboard (after a retransmission timeout: go back N, RFC 6675 5.1 allows it). */
export function clearScoreboard(pcb: TcpPcb): void {
  for (const s of pcb.unacked) {
    s.sacked = false;
    s.rexmit = false;
  }
}

/**
 * One reverse pass over the unacknowledged segments: the pipe (RFC 6675 SetPipe: bytes sent and
 * neither SACKed nor lost, plus retransmitted ones) into pcb.pipe; returns the lowest lost
 * segment not yet retransmitted in this recovery (index into pcb.unacked, or -1). A segment is lost when more
 * than (DupThresh - 1) × MSS bytes, or DupThresh segments, above it are SACKed (IsLost).
 */
export function scanScoreboard(pcb: TcpPcb): number {
  const q = pcb.unacked;
  let sackedBytes = 0;
  let sackedSegs = 0;
  let pipe = 0;
  let nextLost = -1;
  const lossBytes = (DUP_THRESH - 1) * pcb.mss;
  // A SACKed tail loss probe: everything unSACKed below it was sent before it (RFC 8985 6.2).
  let probeSacked = false;
  for (let i = q.length - 1; i >= 0; i--) {
    const s = q[i]!;
    if (s.sacked) {
      sackedBytes += s.len;
      sackedSegs++;
      if (pcb.tlpActive && s.seq === pcb.tlpSeq) probeSacked = true;
      continue;
    }
    const lost = probeSacked || sackedBytes > lossBytes || sackedSegs >= DUP_THRESH;
    if (!lost) pipe += s.len + (s.syn ? 1 : 0) + (s.fin ? 1 : 0);
    else if (s.rexmit) pipe += s.len;
    else nextLost = i;
  }
  pcb.pipe = pipe;
  return nextLost;
}

/** Whether the first unacknowledged segment counts as lost by the SACKs above it. */
export function firstIsLost(pcb: TcpPcb): boolean {
  const first = pcb.unacked[0];
  if (first === undefined || first.sacked) return false;
  return scanScoreboard(pcb) === 0;
}

/**
 * RFC 6675 5 (steps C): while the pipe leaves room in cwnd, send the next lost segment, else new
 * data the peer's window allows.
 */
export function sackRecoverySend(stack: TcpStack, pcb: TcpPcb, now: number): void {
  for (let guard = 0; guard < 1024; guard++) {
    const nextLost = scanScoreboard(pcb);
    if (pcb.pipe + pcb.mss > pcb.cwnd) return;
    if (nextLost >= 0) {
      const s = pcb.unacked[nextLost]!;
      s.rexmit = true;
      stack.stats.sackRetransmits++;
      transmitSeg(stack, pcb, s, now);
      continue;
    }
    const s = pcb.unsent[0];
    if (s === undefined || s.syn) return;
    if (seqDiff(seqAdd(s.seq, s.len), pcb.sndUna) > pcb.sndWnd) return;
    pcb.unsent.shift();
    pcb.unacked.push(s);
    transmitSeg(stack, pcb, s, now);
    const e = segEnd(s);
    if (seqGt(e, pcb.sndNxt)) pcb.sndNxt = e;
    if (seqGt(e, pcb.sndMax)) pcb.sndMax = e;
  }
}
