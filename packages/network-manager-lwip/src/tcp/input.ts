// The per-connection state machine (RFC 9293 3.10.7): a segment arriving on a pcb. Acceptability,
// RST (RFC 5961 challenge ACKs), SYN, ACK processing (handshake completion, new and duplicate
// ACKs, window updates), in-order data delivery with the reassembly queue, FIN and the closing
// states; SYN-SENT's handshake (incl. simultaneous open).

import { IOBuf } from '@ebbrt/interfaces';
import { TcpFlags, type TcpSegment } from '../wire/tcp.js';
import { congestionOnAck, congestionOnDupAck, initialCwnd } from './congestion.js';
import { ackData, emit, output, sendAck, sendRstFor, transmitSeg, tsNow } from './output.js';
import type { TcpPcb } from './pcb.js';
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from './seq.js';
import type { TcpStack } from './stack.js';
import { firstIsLost, updateScoreboard } from './sack.js';
import { armKeepalive, armTailLossProbe, armTimer } from './timers.js';
import { EMPTY_OPTIONS, isClosed, segEnd, TcpState, type SendSeg } from './types.js';

export function pcbInput(stack: TcpStack, pcb: TcpPcb, frame: IOBuf, seg: TcpSegment): boolean {
  const flags = seg.flags;
  const now = stack.env.nowNs();
  if (pcb.state === TcpState.SynSent) {
    synSentInput(stack, pcb, seg, flags);
    return false;
  }
  pcb.lastRcvNs = now; // the peer is alive (keepalive counts from here)
  pcb.kaProbesSent = 0;
  const segSeq = seg.seq;
  if (pcb.state === TcpState.SynRcvd && (flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.SYN && segSeq === pcb.irs) {
    // The peer retransmitted its SYN: our SYN-ACK (or its ACK) was lost. Answer with the SYN-ACK
    // now instead of waiting for our RTO (Linux does the same).
    const synAck = pcb.unacked[0];
    if (synAck !== undefined && synAck.syn) {
      stack.stats.synRetransmitsAnswered++;
      transmitSeg(stack, pcb, synAck, now);
    }
    return false;
  }
  let payloadLen = seg.payloadLength;
  const segLen = seg.segmentLength;
  // The window we advertised (its right edge never moves left), not the buffer size.
  const rcvWnd = Math.max(0, seqDiff(pcb.rcvAdvEdge, pcb.rcvNxt));
  // Acceptability (RFC 9293 3.10.7.4).
  const acceptable =
    segLen === 0
      ? seqGeq(segSeq, pcb.rcvNxt) && seqLt(segSeq, seqAdd(pcb.rcvNxt, rcvWnd)) || segSeq === pcb.rcvNxt
      : (seqGeq(segSeq, pcb.rcvNxt) && seqLt(segSeq, seqAdd(pcb.rcvNxt, rcvWnd))) ||
        (seqGt(seqAdd(segSeq, segLen), pcb.rcvNxt) && seqLeq(seqAdd(segSeq, segLen), seqAdd(pcb.rcvNxt, rcvWnd)));
  if (!acceptable) {
    stack.stats.duplicateSegments++;
    if ((flags & TcpFlags.RST) === 0) sendAck(stack, pcb);
    return false;
  }
  const o = stack.opts;
  // TS.Recent (RFC 7323 4.3): the TSval of a segment that starts at or before RCV.NXT.
  if (pcb.tsOk && o.hasTimestamp && seqLeq(segSeq, pcb.rcvNxt) && seqGeq(o.tsVal, pcb.tsRecent)) pcb.tsRecent = o.tsVal;
  if ((flags & TcpFlags.RST) !== 0) {
    stack.stats.rstReceived++;
    if (segSeq !== pcb.rcvNxt) {
      sendAck(stack, pcb); // RFC 5961 challenge ACK
      return false;
    }
    if (pcb.state === TcpState.SynRcvd && !pcb.active) {
      stack.free(pcb);
      return false;
    }
    if (pcb.state === TcpState.TimeWait || pcb.state === TcpState.LastAck || pcb.state === TcpState.Closing) {
      stack.free(pcb);
      return false;
    }
    stack.abortWith(pcb, Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' }));
    return false;
  }
  if ((flags & TcpFlags.SYN) !== 0) {
    sendAck(stack, pcb); // RFC 5961 4: challenge ACK
    return false;
  }
  if ((flags & TcpFlags.ACK) === 0) return false;
  const ack = seg.ack;
  // ---- ACK processing
  if (pcb.state === TcpState.SynRcvd) {
    if (seqGt(ack, pcb.sndUna) && seqLeq(ack, pcb.sndMax)) {
      pcb.listener?.halfOpen.delete(pcb);
      const l = pcb.listener;
      pcb.listener = undefined;
      pcb.state = pcb.finQueued ? TcpState.FinWait1 : TcpState.Established;
      pcb.sndWnd = seg.window * 2 ** pcb.sndScale;
      pcb.sndWl1 = segSeq;
      pcb.sndWl2 = ack;
      ackReceived(stack, pcb, ack, now);
      pcb.cwnd = initialCwnd(pcb);
      if (pcb.keepaliveIdleNs >= 0) armKeepalive(stack, pcb);
      if (pcb.active) pcb.callback((h) => h.connected?.(pcb));
      else if (l !== undefined) {
        if (l.closed) {
          sendRstFor(stack, pcb);
          stack.free(pcb);
          return false;
        }
        try {
          pcb.handler = l.accept(pcb);
        } catch {
          stack.stats.handlerErrors++;
        }
        if (pcb.handler === undefined) {
          pcb.abort();
          return false;
        }
      }
      if (isClosed(pcb)) return false;
    } else {
      stack.stats.rstSent++;
      emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
      return false;
    }
  } else {
    if (seqGt(ack, pcb.sndMax)) {
      sendAck(stack, pcb);
      return false;
    }
    const wnd = seg.window * 2 ** pcb.sndScale;
    const sack = stack.opts.sackBlocks;
    if (pcb.sackOk && sack.length > 0 && pcb.unacked.length > 0) updateScoreboard(stack, pcb, sack);
    if (seqLeq(ack, pcb.sndUna)) {
      // Duplicate ACK (RFC 5681 2)?
      if (ack === pcb.sndUna && payloadLen === 0 && (flags & TcpFlags.FIN) === 0 && wnd === pcb.sndWnd && pcb.unacked.length > 0) {
        congestionOnDupAck(stack, pcb);
      }
    } else {
      ackReceived(stack, pcb, ack, now);
      if (pcb.state === TcpState.Closed) return false;
      // The probe's ACK may also be a new cumulative one (it carried a delayed ACK along): its
      // SACK still shows the holes below the probe lost, so recovery starts on it too.
      if (pcb.tlpActive && pcb.sackOk && !pcb.inRecovery && pcb.unacked.length > 0 && firstIsLost(pcb)) congestionOnDupAck(stack, pcb);
    }
    // Window update (RFC 9293 3.10.7.4).
    if (seqLt(pcb.sndWl1, segSeq) || (pcb.sndWl1 === segSeq && seqLeq(pcb.sndWl2, ack))) {
      const opened = wnd > pcb.sndWnd;
      pcb.sndWnd = wnd;
      pcb.sndWl1 = segSeq;
      pcb.sndWl2 = ack;
      if (wnd > 0) pcb.persistDeadline = -1;
      if (opened) {
        pcb.flushAppQueue();
        output(stack, pcb);
        maybeWindowIncreased(pcb);
      }
    }
  }
  if (pcb.state === TcpState.Closed) return false;
  // ---- data and FIN
  let kept = false;
  const canReceive = pcb.state === TcpState.Established || pcb.state === TcpState.FinWait1 || pcb.state === TcpState.FinWait2;
  const fin = (flags & TcpFlags.FIN) !== 0;
  if ((payloadLen > 0 || fin) && canReceive) {
    let start = segSeq;
    let trim = 0;
    if (seqLt(start, pcb.rcvNxt)) {
      trim = Math.min(seqDiff(pcb.rcvNxt, start), payloadLen);
      start = seqAdd(start, trim);
    }
    const dataLen = payloadLen - trim;
    // Zero copy: narrow the RX buffer view to the (trimmed) payload.
    frame.advance(seg.payloadOffset + trim - frame.offset);
    frame.trimEnd(frame.length - dataLen);
    // Clip to the receive window.
    const room = seqDiff(seqAdd(pcb.rcvNxt, rcvWnd), start);
    let finHere = fin;
    if (dataLen > room) {
      frame.trimEnd(dataLen - Math.max(0, room));
      finHere = false;
    }
    if (start === pcb.rcvNxt) {
      kept = frame.length > 0;
      if (frame.length > 0) {
        pcb.rcvNxt = seqAdd(pcb.rcvNxt, frame.length);
        deliver(pcb, frame);
      }
      let gotFin = finHere;
      const filledGap = pcb.ooo.size > 0;
      if (finHere) pcb.ooo.clear();
      else if (pcb.ooo.size > 0) {
        // Only with segments held out of order: the drain's closures are not free per segment.
        pcb.rcvNxt = pcb.ooo.drain(pcb.rcvNxt, (d) => deliver(pcb, d), () => {
          gotFin = true;
        });
      }
      if (gotFin) finInput(stack, pcb, now);
      else if (filledGap) sendAck(stack, pcb);
      else ackData(stack, pcb);
    } else {
      stack.stats.outOfOrder++;
      if (frame.length > 0 || finHere) {
        const held = frame.length > 0 ? frame : IOBuf.wrap(new Uint8Array(0));
        kept = frame.length > 0;
        if (!pcb.ooo.insert(start, held, finHere)) stack.stats.duplicateSegments++;
      }
      sendAck(stack, pcb); // immediate duplicate ACK for fast retransmit at the sender
    }
  } else if (payloadLen > 0 || fin) {
    // Data after our receive side ended (FIN already received): just acknowledge.
    if (!isClosed(pcb)) sendAck(stack, pcb);
  }
  return kept;
}

export function deliver(pcb: TcpPcb, data: IOBuf): void {
  pcb.deliver(data);
}

export function finInput(stack: TcpStack, pcb: TcpPcb, now: number): void {
  pcb.rcvNxt = seqAdd(pcb.rcvNxt, 1);
  pcb.finReceived = true;
  sendAck(stack, pcb);
  switch (pcb.state) {
    case TcpState.Established:
      pcb.state = TcpState.CloseWait;
      break;
    case TcpState.FinWait1:
      pcb.state = TcpState.Closing;
      break;
    case TcpState.FinWait2:
      enterTimeWait(stack, pcb, now);
      break;
  }
  pcb.deliverClosed();
}

export function enterTimeWait(stack: TcpStack, pcb: TcpPcb, now: number): void {
  pcb.state = TcpState.TimeWait;
  pcb.rtoDeadline = -1;
  pcb.persistDeadline = -1;
  pcb.timeWaitDeadline = now + 2 * stack.config.mslNs;
  armTimer(stack, pcb);
}

export function synSentInput(stack: TcpStack, pcb: TcpPcb, seg: TcpSegment, flags: number): void {
  const ackFlag = (flags & TcpFlags.ACK) !== 0;
  const ack = seg.ack;
  if (ackFlag && (seqLeq(ack, pcb.iss) || seqGt(ack, pcb.sndMax))) {
    if ((flags & TcpFlags.RST) === 0) {
      stack.stats.rstSent++;
      emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
    }
    return;
  }
  if ((flags & TcpFlags.RST) !== 0) {
    stack.stats.rstReceived++;
    if (ackFlag) stack.abortWith(pcb, Object.assign(new Error(`connection refused by ${pcb.remoteAddress}:${pcb.remotePort}`), { code: 'ECONNREFUSED' }));
    return;
  }
  if ((flags & TcpFlags.SYN) === 0) return;
  stack.takeSynOptions(pcb);
  pcb.irs = seg.seq;
  pcb.rcvNxt = seqAdd(seg.seq, 1);
  pcb.rcvAdvEdge = seqAdd(pcb.rcvNxt, Math.min(stack.config.receiveWindow, 0xffff)); // our SYN's window
  const now = stack.env.nowNs();
  if (ackFlag) {
    pcb.state = TcpState.Established;
    pcb.sndWnd = seg.window * 2 ** pcb.sndScale;
    pcb.sndWl1 = seg.seq;
    pcb.sndWl2 = ack;
    ackReceived(stack, pcb, ack, now);
    pcb.cwnd = initialCwnd(pcb);
    pcb.lastRcvNs = now;
    if (pcb.keepaliveIdleNs >= 0) armKeepalive(stack, pcb);
    sendAck(stack, pcb);
    pcb.callback((h) => h.connected?.(pcb));
    if (pcb.finQueued) pcb.state = TcpState.FinWait1;
    pcb.flushAppQueue();
    output(stack, pcb);
    maybeWindowIncreased(pcb);
  } else {
    // Simultaneous open (RFC 9293 3.5): SYN_RCVD, send SYN-ACK (our SYN again, with ACK).
    pcb.state = TcpState.SynRcvd;
    pcb.sndWnd = seg.window;
    pcb.sndWl1 = seg.seq;
    const syn = pcb.unacked.shift();
    if (syn !== undefined) pcb.unsent.unshift(syn);
    pcb.sndNxt = pcb.sndUna;
    output(stack, pcb);
  }
}

/** A new cumulative ACK (sndUna < ack <= sndMax). */
export function ackReceived(stack: TcpStack, pcb: TcpPcb, ack: number, now: number): void {
  const acked = seqDiff(ack, pcb.sndUna);
  const timed = pcb.rttStartNs >= 0 && seqGt(ack, pcb.rttSeq);
  // RTT sample (Karn: only segments sent once).
  pcb.retries = 0;
  // Once the probed segment is acknowledged no hole below it is left: a later tail may be probed.
  // (A partial ACK in the recovery it started keeps it: the holes above that ACK are still lost.)
  if (pcb.tlpActive && seqGt(ack, pcb.tlpSeq)) pcb.tlpActive = false;
  pcb.sndUna = ack;
  if (seqLt(pcb.sndNxt, ack)) pcb.sndNxt = ack;
  // Function calls, not a closure per ACK (this runs for every ACK that acknowledges data).
  pcb.ackedRetransmitted = false;
  const finAckedUnacked = releaseAcked(pcb, pcb.unacked, ack);
  const finAcked = releaseAcked(pcb, pcb.unsent, ack) || finAckedUnacked;
  const o = stack.opts;
  if (timed) {
    pcb.rto.sample(now - pcb.rttStartNs);
    pcb.rttStartNs = -1;
  } else if (pcb.ackedRetransmitted && pcb.tsOk && o.hasTimestamp && o.tsEcr !== 0) {
    // RFC 7323 4: the echoed TSval times this ACK of retransmitted data unambiguously, where
    // Karn's rule leaves no sample (so the RTO backoff does not outlive a recovery). Only then:
    // our timed segment (ns) is the finer clock; TS ticks are milliseconds and 0 says nothing.
    const ticks = (tsNow(stack, pcb) - o.tsEcr) >>> 0;
    if (ticks > 0 && ticks < 0x7fffffff) {
      pcb.rto.sample(ticks * 1e6);
      stack.stats.tsRttSamples++;
    } else pcb.rto.resetBackoff();
  } else pcb.rto.resetBackoff();
  congestionOnAck(stack, pcb, acked, ack, now);
  pcb.dupAcks = 0;
  pcb.unackedSinceNs = pcb.unacked.length > 0 ? now : -1; // progress: the user timeout restarts
  // Restart the retransmission timer (RFC 6298 5.3) or stop it (5.2).
  pcb.rtoDeadline = pcb.unacked.length > 0 ? now + pcb.rto.rto : -1;
  if (finAcked) {
    switch (pcb.state) {
      case TcpState.FinWait1:
        pcb.state = TcpState.FinWait2;
        break;
      case TcpState.Closing:
        enterTimeWait(stack, pcb, now);
        break;
      case TcpState.LastAck:
        stack.free(pcb);
        return;
    }
  }
  pcb.flushAppQueue();
  output(stack, pcb);
  armTailLossProbe(stack, pcb, now);
  armTimer(stack, pcb);
  maybeWindowIncreased(pcb);
}

/** Releases the segments of `q` wholly acknowledged by `ack`; true if one of them carried our FIN. */
export function releaseAcked(pcb: TcpPcb, q: SendSeg[], ack: number): boolean {
  let finAcked = false;
  let i = 0;
  while (i < q.length && seqLeq(segEnd(q[i]!), ack)) {
    const s = q[i]!;
    s.data?.releaseChain();
    s.data = undefined;
    pcb.buffered -= s.len;
    if (s.sends > 1) pcb.ackedRetransmitted = true;
    if (s.fin) finAcked = true;
    i++;
  }
  if (i > 0) q.splice(0, i);
  return finAcked;
}

export function maybeWindowIncreased(pcb: TcpPcb): void {
  if (!pcb.wantWindow || pcb.appQueue.length > 0 || pcb.silenced) return;
  if (pcb.sendWindowRemaining() <= 0) return;
  pcb.wantWindow = false;
  pcb.windowIncreasedCallback();
}

