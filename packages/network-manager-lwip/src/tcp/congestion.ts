// Congestion control: RFC 5681 slow start and congestion avoidance with its initial window,
// fast retransmit on three duplicate ACKs, NewReno fast recovery (RFC 6582) or, with SACK,
// RFC 6675 recovery (sack.ts sends), and the reaction to a retransmission timeout. The only file that changes cwnd and ssthresh.

import { transmitSeg, output } from './output.js';
import { clearScoreboard, firstIsLost, sackRecoverySend } from './sack.js';
import type { TcpPcb } from './pcb.js';
import { seqDiff, seqGeq } from './seq.js';
import type { TcpStack } from './stack.js';
import { TcpState } from './types.js';

/** RFC 5681 3.1 initial window. */
export function initialCwnd(pcb: TcpPcb): number {
  const m = pcb.mss;
  return m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
}

/** A new cumulative ACK for `acked` bytes (SND.UNA already moved to `ack`). */
export function congestionOnAck(stack: TcpStack, pcb: TcpPcb, acked: number, ack: number, now: number): void {
  if (pcb.inRecovery) {
    if (seqGeq(ack, pcb.recover)) {
      pcb.inRecovery = false;
      if (pcb.sackOk) {
        // RFC 6675 5 (step 4 done): cwnd = ssthresh.
        pcb.cwnd = pcb.ssthresh;
        for (const s of pcb.unacked) s.rexmit = false;
        return;
      }
      // Full ACK (RFC 6582 3.2 step 3): deflate.
      pcb.cwnd = Math.min(pcb.ssthresh, Math.max(seqDiff(pcb.sndMax, pcb.sndUna), 0) + pcb.mss);
    } else if (pcb.sackOk) {
      // Partial ACK: no deflation; send what the pipe allows (lost holes first).
      sackRecoverySend(stack, pcb, now);
    } else {
      // Partial ACK: retransmit the first unacknowledged segment, deflate by the amount acked.
      const first = pcb.unacked[0];
      if (first !== undefined) transmitSeg(stack, pcb, first, now);
      pcb.cwnd = Math.max(pcb.mss, pcb.cwnd - acked + pcb.mss);
    }
  } else if (pcb.state !== TcpState.SynSent && pcb.state !== TcpState.SynRcvd) {
    if (pcb.cwnd < pcb.ssthresh) pcb.cwnd += Math.min(acked, pcb.mss);
    else pcb.cwnd += Math.max(1, Math.floor((pcb.mss * pcb.mss) / pcb.cwnd));
  }
}

/** A duplicate ACK (RFC 5681 2). */
export function congestionOnDupAck(stack: TcpStack, pcb: TcpPcb): void {
  pcb.dupAcks++;
  const now = stack.env.nowNs();
  if (pcb.inRecovery) {
    if (pcb.sackOk) {
      sackRecoverySend(stack, pcb, now); // RFC 6675: the pipe, not an inflated cwnd
      return;
    }
    pcb.cwnd += pcb.mss; // inflate
    output(stack, pcb);
    return;
  }
  // RFC 6675 5: three duplicate ACKs, or SACKs showing the first segment lost.
  if ((pcb.dupAcks === 3 || (pcb.sackOk && firstIsLost(pcb))) && seqGeq(pcb.sndUna, pcb.recover)) {
    // Fast retransmit (RFC 5681 3.2, RFC 6582 3.2 step 2).
    stack.stats.fastRetransmits++;
    const flight = seqDiff(pcb.sndMax, pcb.sndUna);
    pcb.ssthresh = Math.max(flight >> 1, 2 * pcb.mss);
    pcb.recover = pcb.sndMax;
    pcb.inRecovery = true;
    const first = pcb.unacked[0]!;
    if (pcb.sackOk) {
      stack.stats.sackRecoveries++;
      pcb.cwnd = pcb.ssthresh;
      first.rexmit = true;
      transmitSeg(stack, pcb, first, now);
      sackRecoverySend(stack, pcb, now);
      return;
    }
    transmitSeg(stack, pcb, first, now);
    pcb.cwnd = pcb.ssthresh + 3 * pcb.mss;
    output(stack, pcb);
  }
}

/** A retransmission timeout: RFC 5681 (4) ssthresh = max(FlightSize / 2, 2 * SMSS); cwnd = 1 segment. */
export function congestionOnTimeout(pcb: TcpPcb): void {
  clearScoreboard(pcb);
  const flight = seqDiff(pcb.sndMax, pcb.sndUna);
  pcb.ssthresh = Math.max(flight >> 1, 2 * pcb.mss);
  pcb.cwnd = pcb.mss;
  pcb.inRecovery = false;
  pcb.recover = pcb.sndMax; // RFC 6582 4: no fast retransmit for data sent before the timeout
  pcb.dupAcks = 0;
}
