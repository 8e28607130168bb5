// Timers: one Timer Ebb timer per pcb serves its deadlines (retransmission timeout per RFC 6298,
// zero-window persist probe, TIME-WAIT's 2 × MSL, the delayed ACK, keepalive, the user timeout). The timer is restarted only when an earlier
// deadline appears; a late wake-up re-arms for what is left.

import { TcpFlags } from '../wire/tcp.js';
import { sliceChain } from './chain.js';
import { congestionOnTimeout } from './congestion.js';
import { advertisedWindow, emit, output, segOptions, sendAck, transmitSeg } from './output.js';
import type { TcpPcb } from './pcb.js';
import { seqAdd, seqGt } from './seq.js';
import type { TcpStack } from './stack.js';
import { isClosed, isSynchronized, TcpState } from './types.js';

/** Makes sure the pcb's timer fires by its earliest deadline. */
export function armTimer(stack: TcpStack, pcb: TcpPcb): void {
  // No array per call: this runs after every ACK.
  let at = Infinity;
  const r = pcb.rtoDeadline;
  const p = pcb.persistDeadline;
  const w = pcb.timeWaitDeadline;
  const d = pcb.delAckDeadline;
  if (d >= 0 && d < at) at = d;
  const k = pcb.keepaliveDeadline;
  if (k >= 0 && k < at) at = k;
  const u = pcb.userTimeoutNs > 0 && pcb.unackedSinceNs >= 0 ? pcb.unackedSinceNs + pcb.userTimeoutNs : -1;
  if (u >= 0 && u < at) at = u;
  if (r >= 0 && r < at) at = r;
  if (p >= 0 && p < at) at = p;
  const t = pcb.tlpDeadline;
  if (t >= 0 && t < at) at = t;
  if (w >= 0 && w < at) at = w;
  if (at === Infinity) return;
  if (pcb.timer !== undefined && pcb.timer.active && pcb.timerAt <= at) return;
  pcb.timer?.stop();
  const now = stack.env.nowNs();
  pcb.timerAt = at;
  pcb.timer = stack.env.startTimer(() => onTimer(stack, pcb), Math.max(1, Math.ceil((at - now) / 1000)));
}

export function onTimer(stack: TcpStack, pcb: TcpPcb): void {
  pcb.timer = undefined;
  pcb.timerAt = -1;
  if (pcb.state === TcpState.Closed) return;
  const now = stack.env.nowNs();
  if (pcb.timeWaitDeadline >= 0 && now >= pcb.timeWaitDeadline) {
    stack.free(pcb);
    return;
  }
  if (pcb.userTimeoutNs > 0 && pcb.unackedSinceNs >= 0 && pcb.unacked.length > 0 && now >= pcb.unackedSinceNs + pcb.userTimeoutNs) {
    stack.stats.userTimeouts++;
    stack.abortWith(pcb, Object.assign(new Error('user timeout'), { code: 'ETIMEDOUT' }));
    return;
  }
  if (pcb.keepaliveDeadline >= 0 && now >= pcb.keepaliveDeadline) {
    pcb.keepaliveDeadline = -1;
    keepaliveFire(stack, pcb, now);
    if (isClosed(pcb)) return;
  }
  if (pcb.delAckDeadline >= 0 && now >= pcb.delAckDeadline) {
    pcb.delAckDeadline = -1;
    if (pcb.ackSent !== pcb.rcvNxt) {
      stack.stats.delayedAcks++;
      sendAck(stack, pcb);
    }
  }
  if (pcb.tlpDeadline >= 0 && now >= pcb.tlpDeadline) {
    pcb.tlpDeadline = -1;
    tailLossProbe(stack, pcb, now);
  }
  if (pcb.rtoDeadline >= 0 && now >= pcb.rtoDeadline) {
    pcb.rtoDeadline = -1;
    if (pcb.unacked.length > 0) onRto(stack, pcb, now);
    if (isClosed(pcb)) return;
  }
  if (pcb.persistDeadline >= 0 && now >= pcb.persistDeadline) {
    pcb.persistDeadline = -1;
    probe(stack, pcb, now);
  }
  armTimer(stack, pcb);
}

export function onRto(stack: TcpStack, pcb: TcpPcb, now: number): void {
  const cfg = stack.config;
  pcb.retries++;
  const syn = pcb.state === TcpState.SynSent || pcb.state === TcpState.SynRcvd;
  if (pcb.retries > (syn ? cfg.maxSynRetries : cfg.maxRetries)) {
    stack.stats.timeouts++;
    if (pcb.state === TcpState.SynRcvd && !pcb.active) {
      stack.free(pcb);
      return;
    }
    stack.abortWith(pcb, Object.assign(new Error(syn ? 'connection timed out' : 'timeout'), { code: 'ETIMEDOUT' }));
    return;
  }
  stack.stats.rtoExpirations++;
  pcb.tlpActive = false;
  pcb.tlpDeadline = -1;
  pcb.rto.backoff();
  congestionOnTimeout(pcb);
  pcb.rttStartNs = -1;
  // Go back N (lwIP's tcp_rexmit_rto): everything unacked is sent again as cwnd allows.
  pcb.unsent = pcb.unacked.concat(pcb.unsent);
  pcb.unacked = [];
  pcb.sndNxt = pcb.sndUna;
  output(stack, pcb);
  if (pcb.rtoDeadline < 0 && pcb.unacked.length > 0) pcb.rtoDeadline = now + pcb.rto.rto;
}

/**
 * Arms the tail loss probe after data was sent or an ACK left data in flight (RFC 8985 7.2), when
 * enabled and eligible: SACK on, an RTT sample, not in recovery, no probe outstanding, and the
 * probe would come before the retransmission timeout.
 */
export function armTailLossProbe(stack: TcpStack, pcb: TcpPcb, now: number): void {
  if (stack.config.tailLossProbe !== true) return;
  pcb.tlpDeadline = -1;
  if (!pcb.sackOk || pcb.tlpActive || pcb.inRecovery || pcb.unacked.length === 0 || !pcb.rto.hasSample || !isSynchronized(pcb.state)) return;
  let pto = Math.max(2 * pcb.rto.srtt, TLP_MIN_PTO_NS);
  // One segment in flight: the peer may be holding its ACK for the delayed-ACK time (RFC 8985 7.2).
  if (pcb.unacked.length === 1) pto += stack.config.delayedAckNs ?? 40e6;
  if (pcb.rtoDeadline >= 0 && now + pto >= pcb.rtoDeadline) return;
  pcb.tlpDeadline = now + pto;
  armTimer(stack, pcb);
}

/** Linux's floor for the probe timeout: a probe sooner than this would race ordinary ACKs. */
const TLP_MIN_PTO_NS = 10e6;

/** The probe (RFC 8985 7.3): the last unSACKed unacknowledged segment again. */
function tailLossProbe(stack: TcpStack, pcb: TcpPcb, now: number): void {
  if (pcb.inRecovery || pcb.tlpActive) return;
  const q = pcb.unacked;
  let i = q.length - 1;
  while (i >= 0 && q[i]!.sacked) i--;
  if (i < 0) return;
  const s = q[i]!;
  stack.stats.tailLossProbes++;
  pcb.tlpActive = true;
  pcb.tlpSeq = s.seq;
  // The RTO keeps its deadline (RFC 8985 7.3 re-arms it): a probe that repairs nothing must not
  // make the recovery later than it would have been without it.
  transmitSeg(stack, pcb, s, now);
}

/** Zero-window probe: one byte of the first unsent segment, beyond the window. */
export function probe(stack: TcpStack, pcb: TcpPcb, now: number): void {
  if (pcb.sndWnd > 0 || pcb.unsent.length === 0 || pcb.unacked.length > 0) return;
  const s = pcb.unsent[0]!;
  if (s.len === 0 || s.data === undefined) return;
  stack.stats.zeroWindowProbes++;
  const one = sliceChain(s.data, 0, 1);
  emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, s.seq, pcb.rcvNxt, TcpFlags.ACK, advertisedWindow(stack, pcb, false), segOptions(stack, pcb, false), one, 1);
  one.releaseChain();
  // The probe byte is sent sequence space: an ACK for it must not look like one for unsent data.
  const end = seqAdd(s.seq, 1);
  if (seqGt(end, pcb.sndMax)) pcb.sndMax = end;
  if (seqGt(end, pcb.sndNxt)) pcb.sndNxt = end;
  pcb.rto.backoff();
  pcb.persistDeadline = now + pcb.rto.rto;
}

/** (Re)computes the keepalive deadline from when the peer was last heard (no-op when off). */
export function armKeepalive(stack: TcpStack, pcb: TcpPcb): void {
  if (pcb.keepaliveIdleNs < 0) {
    pcb.keepaliveDeadline = -1;
    return;
  }
  pcb.keepaliveDeadline = pcb.lastRcvNs + pcb.keepaliveIdleNs + pcb.kaProbesSent * (stack.config.keepaliveIntervalNs ?? 75e9);
  armTimer(stack, pcb);
}

/**
 * Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): idle past the deadline, send a probe (an ACK
 * with SEG.SEQ = SND.UNA - 1, which the peer must answer); after the configured number of
 * unanswered probes the peer is gone: abort (ETIMEDOUT). Segments from the peer reset the count
 * (pcbInput sets lastRcvNs), so the deadline computed here is checked against that first.
 */
function keepaliveFire(stack: TcpStack, pcb: TcpPcb, now: number): void {
  const idle = pcb.keepaliveIdleNs;
  if (idle < 0) return;
  const interval = stack.config.keepaliveIntervalNs ?? 75e9;
  const due = pcb.lastRcvNs + idle + pcb.kaProbesSent * interval;
  if (now < due) {
    pcb.keepaliveDeadline = due; // heard from the peer meanwhile
    return;
  }
  if (!isSynchronized(pcb.state) || pcb.unacked.length > 0) {
    // Not idle (data in flight: the retransmission timer watches the peer) or not yet open.
    pcb.keepaliveDeadline = now + idle;
    return;
  }
  if (pcb.kaProbesSent >= (stack.config.keepaliveProbes ?? 9)) {
    stack.stats.keepaliveTimeouts++;
    stack.abortWith(pcb, Object.assign(new Error('keepalive timeout: the peer stopped answering'), { code: 'ETIMEDOUT' }));
    return;
  }
  pcb.kaProbesSent++;
  stack.stats.keepaliveProbes++;
  emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, seqAdd(pcb.sndUna, -1), pcb.rcvNxt, TcpFlags.ACK, advertisedWindow(stack, pcb, false), segOptions(stack, pcb, false), undefined, 0);
  pcb.keepaliveDeadline = now + interval;
}
