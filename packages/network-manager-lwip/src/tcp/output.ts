// Output: segments leave here. `output` sends what cwnd and the peer's window allow from a pcb's
// unsent queue; `transmitSeg` (re)sends one segment with RTT sampling (Karn) and RTO arming;
// ACKs, deferred end-of-batch ACKs, RSTs; `emit` builds the header and chains the payload views.

import type { IOBuf } from '@ebbrt/interfaces';
import { checksumAddWide, checksumFinish, checksumFold, pseudoHeaderSum } from '../wire/checksum.js';
import { IpProtocol } from '../wire/ipv4.js';
import type { Ipv4Address } from '../wire/ipv4-address.js';
import { writeU16, writeU32 } from '../wire/result.js';
import { TCP_MIN_HEADER_LEN, TcpFlags } from '../wire/tcp.js';
import { emitTcpOptions, tcpOptionsLength, type TcpOptions } from '../wire/tcp-options.js';
import { sliceChain } from './chain.js';
import type { TcpPcb } from './pcb.js';
import { seqAdd, seqDiff, seqGt, seqLeq } from './seq.js';
import type { TcpStack } from './stack.js';
import { armTailLossProbe, armTimer } from './timers.js';
import { EMPTY_OPTIONS, isSynchronized, segEnd, TcpState, type SendSeg } from './types.js';

/** Sends what the windows allow from `unsent`. */
export function output(stack: TcpStack, pcb: TcpPcb): void {
  if (pcb.state === TcpState.Closed) return;
  if (pcb.state === TcpState.SynRcvd && !pcb.active && pcb.unacked.length > 0) return;
  const now = stack.env.nowNs();
  let sentNew = false;
  while (pcb.unsent.length > 0) {
    const s = pcb.unsent[0]!;
    if (pcb.state === TcpState.SynSent && !s.syn) break;
    // Nagle (RFC 9293 3.7.4): a last segment smaller than the MSS waits while data is in flight.
    if (!pcb.noDelay && s.len > 0 && s.len < pcb.mss && !s.fin && pcb.unsent.length === 1 && pcb.sndMax !== pcb.sndUna) break;
    const wnd = Math.min(pcb.cwnd, pcb.sndWnd);
    const end = seqDiff(seqAdd(s.seq, s.len), pcb.sndUna);
    if (!s.syn && s.len > 0 && end > wnd) {
      // Zero window with nothing in flight: probe later.
      if (pcb.sndWnd === 0 && pcb.unacked.length === 0 && pcb.persistDeadline < 0) {
        pcb.persistDeadline = now + pcb.rto.rto;
        armTimer(stack, pcb);
      }
      break;
    }
    pcb.unsent.shift();
    pcb.unacked.push(s);
    if (pcb.unackedSinceNs < 0) pcb.unackedSinceNs = now;
    transmitSeg(stack, pcb, s, now);
    const e = segEnd(s);
    if (seqGt(e, pcb.sndNxt)) pcb.sndNxt = e;
    if (seqGt(e, pcb.sndMax)) pcb.sndMax = e;
    sentNew = true;
  }
  if (sentNew) armTailLossProbe(stack, pcb, now);
}

export function transmitSeg(stack: TcpStack, pcb: TcpPcb, s: SendSeg, now: number): void {
  if (s.sends > 0) {
    stack.stats.retransmits++;
    if (pcb.rttStartNs >= 0 && seqLeq(s.seq, pcb.rttSeq)) pcb.rttStartNs = -1; // Karn
  } else if (pcb.rttStartNs < 0) {
    pcb.rttStartNs = now;
    pcb.rttSeq = s.seq;
  }
  s.sends++;
  let flags: number = TcpFlags.ACK;
  if (s.syn) flags = pcb.state === TcpState.SynSent ? TcpFlags.SYN : TcpFlags.SYN | TcpFlags.ACK;
  if (s.fin) flags |= TcpFlags.FIN;
  if (s.len > 0) {
    flags |= TcpFlags.PSH;
    stack.stats.dataSegmentsOut++;
  }
  const sent = emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, s.seq, pcb.rcvNxt, flags, advertisedWindow(stack, pcb, s.syn), s.syn ? synOptions(stack, pcb) : segOptions(stack, pcb, false), s.data, s.len);
  if (sent && (flags & TcpFlags.ACK) !== 0) acked(pcb);
  if (pcb.rtoDeadline < 0) {
    pcb.rtoDeadline = now + pcb.rto.rto;
    armTimer(stack, pcb);
  }
}

export function synOptions(stack: TcpStack, pcb: TcpPcb): TcpOptions {
  const o = stack.synOpts;
  o.mss = stack.config.mss;
  o.windowScale = stack.ourScale;
  // Our SYN offers SACK; our SYN-ACK only when the peer's SYN did (RFC 2018 2).
  o.sackPermitted = stack.config.sack !== false && (pcb.state === TcpState.SynSent || pcb.sackOk);
  // Timestamps likewise (RFC 7323 3.2): offered in our SYN, in the SYN-ACK only if the peer did.
  o.hasTimestamp = stack.config.timestamps === true && (pcb.state === TcpState.SynSent || pcb.tsOk);
  o.tsVal = tsNow(stack, pcb);
  o.tsEcr = pcb.state === TcpState.SynSent ? 0 : pcb.tsRecent;
  return o;
}

/** Our timestamp clock (RFC 7323 5.4): milliseconds plus the connection's offset. */
export function tsNow(stack: TcpStack, pcb: TcpPcb): number {
  return (Math.floor(stack.env.nowNs() / 1e6) + pcb.tsOffset) >>> 0;
}

/**
 * Options of a non-SYN segment: the timestamp once negotiated (RFC 7323 3.2: in every non-RST
 * segment) and, in pure ACKs, SACK blocks for the out-of-order data we hold (RFC 2018 4; 3
 * blocks fit beside a timestamp, 4 without).
 */
export function segOptions(stack: TcpStack, pcb: TcpPcb, withSack: boolean): TcpOptions {
  const sack = withSack && pcb.sackOk && pcb.ooo.size > 0;
  if (!pcb.tsOk && !sack) return EMPTY_OPTIONS;
  const o = stack.ackOpts;
  o.hasTimestamp = pcb.tsOk;
  if (pcb.tsOk) {
    o.tsVal = tsNow(stack, pcb);
    o.tsEcr = pcb.tsRecent;
  }
  if (sack) {
    pcb.ooo.sackBlocks(o.sackBlocks, pcb.tsOk ? 3 : 4);
    stack.stats.sackBlocksOut += o.sackBlocks.length >> 1;
  } else o.sackBlocks.length = 0;
  if (!o.hasTimestamp && o.sackBlocks.length === 0) return EMPTY_OPTIONS;
  return o;
}

/** What the application leaves free of the receive buffer (bytes), as far as the field can express. */
function freeWindow(stack: TcpStack, pcb: TcpPcb): number {
  return Math.max(0, Math.min(pcb.rcvWnd, stack.config.receiveWindow - pcb.rcvHeld));
}

/** The window field of a segment we send now, and the right edge it advertises (pcb.rcvAdvEdge). */
export function advertisedWindow(stack: TcpStack, pcb: TcpPcb, syn: boolean): number {
  const w = stack.config.receiveWindow;
  if (syn) return Math.min(w, 0xffff); // never scaled in a SYN (RFC 7323 2.2)
  const free = freeWindow(stack, pcb);
  let wnd = Math.max(0, seqDiff(pcb.rcvAdvEdge, pcb.rcvNxt));
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): move the right edge only by a useful amount;
  // never move it left (the window shrinks only as data arrives into it).
  if (free > wnd && (free - wnd >= Math.min(w >> 1, pcb.mss) || free === pcb.rcvWnd)) wnd = free;
  const unit = 2 ** pcb.rcvScale;
  const field = Math.min(0xffff, Math.ceil(wnd / unit));
  pcb.rcvAdvEdge = seqAdd(pcb.rcvNxt, field * unit);
  return field;
}

/**
 * The application released data: send a window update if the peer may be waiting for one (the
 * window we advertised is at most half the buffer and could grow by at least an MSS, Linux's
 * rule in tcp_cleanup_rbuf), once per input batch (env.defer).
 */
export function windowMaybeOpened(stack: TcpStack, pcb: TcpPcb): void {
  if (!isSynchronized(pcb.state)) return;
  const cur = Math.max(0, seqDiff(pcb.rcvAdvEdge, pcb.rcvNxt));
  const free = freeWindow(stack, pcb);
  if (cur > stack.config.receiveWindow >> 1 || free - cur < Math.min(stack.config.receiveWindow >> 1, pcb.mss)) return;
  const defer = stack.env.defer;
  if (defer === undefined) {
    stack.stats.windowUpdates++;
    sendAck(stack, pcb);
  } else stack.deferredAcks.add(pcb, defer);
}

export function sendAck(stack: TcpStack, pcb: TcpPcb): void {
  // SEQ = SND.MAX, not SND.NXT: after a go-back-N rewind, an ACK carrying an old sequence
  // number would be unacceptable to the peer (RFC 9293 3.10.7.4) and its ACK field ignored.
  if (emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, pcb.sndMax, pcb.rcvNxt, TcpFlags.ACK, advertisedWindow(stack, pcb, false), segOptions(stack, pcb, true), undefined, 0)) {
    acked(pcb);
  }
}

/** A segment carrying ACK = RCV.NXT went out. */
export function acked(pcb: TcpPcb): void {
  pcb.ackSent = pcb.rcvNxt;
  pcb.segsUnacked = 0;
  pcb.delAckDeadline = -1;
}

/**
 * In-order data arrived: acknowledge every second segment at once (RFC 5681 4.2), a lone one
 * when the delayed-ACK timer fires, unless a reply carries the ACK first.
 */
export function ackData(stack: TcpStack, pcb: TcpPcb): void {
  const delay = stack.config.delayedAckNs ?? 40e6;
  if (delay <= 0 || ++pcb.segsUnacked >= 2) {
    sendAck(stack, pcb);
    return;
  }
  if (pcb.delAckDeadline < 0) {
    pcb.delAckDeadline = stack.env.nowNs() + delay;
    armTimer(stack, pcb);
  }
}

/** Connections whose window update waits until the end of the input batch. */
export class DeferredAcks {
  private readonly list: TcpPcb[] = [];
  private scheduled = false;
  constructor(private readonly stack: TcpStack) {}

  add(pcb: TcpPcb, defer: (fn: () => void) => void): void {
    if (pcb.ackPending) return;
    pcb.ackPending = true;
    this.list.push(pcb);
    if (!this.scheduled) {
      this.scheduled = true;
      defer(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const pcb = list[i]!;
      pcb.ackPending = false;
      if (pcb.state === TcpState.Closed) continue;
      // Still useful (a segment sent meanwhile may have carried the new window)?
      const cur = Math.max(0, seqDiff(pcb.rcvAdvEdge, pcb.rcvNxt));
      if (freeWindow(this.stack, pcb) - cur < Math.min(this.stack.config.receiveWindow >> 1, pcb.mss)) continue;
      this.stack.stats.windowUpdates++;
      sendAck(this.stack, pcb);
    }
    list.length = 0;
  };
}

export function sendRstFor(stack: TcpStack, pcb: TcpPcb): void {
  stack.stats.rstSent++;
  emit(stack, pcb.localPort, pcb.remoteIp, pcb.remotePort, pcb.sndMax, pcb.rcvNxt, TcpFlags.RST | TcpFlags.ACK, 0, EMPTY_OPTIONS, undefined, 0);
}

/**
 * Builds and sends one segment. Payload in physical memory goes out as views chained behind the
 * header buffer (zero copy). Payload on the JS heap has to be copied into physical memory for the
 * device anyway: the heap bytes that lead the payload (all of a plain send; a reply's header
 * before its stored value) are copied here, into the header's own buffer, and checksummed there.
 * So a heap segment is one buffer and one descriptor instead of a header, a view per element and
 * the driver's copy of each, and a physical value is never copied.
 */
export function emit(
  stack: TcpStack,
  srcPort: number,
  dst: Ipv4Address,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  options: TcpOptions,
  payload: IOBuf | undefined,
  payloadLen: number,
): boolean {
  const env = stack.env;
  const optLen = options === EMPTY_OPTIONS ? 0 : tcpOptionsLength(options);
  const hl = TCP_MIN_HEADER_LEN + optLen;
  const lead = payload === undefined || payloadLen <= 0 ? 0 : heapLead(payload, payloadLen);
  const head = env.allocFrame(env.l4Offset + hl + lead);
  if (head === null) return false; // counted as noMemory; retransmission recovers
  const b = head.bytes;
  const o = head.offset + env.l4Offset;
  if (optLen > 0) emitTcpOptions(options, b, o + TCP_MIN_HEADER_LEN);
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU32(b, o + 4, seq >>> 0);
  writeU32(b, o + 8, (flags & TcpFlags.ACK) !== 0 ? ack >>> 0 : 0);
  b[o + 12] = (hl / 4) << 4;
  b[o + 13] = flags;
  writeU16(b, o + 14, window);
  writeU16(b, o + 16, 0);
  writeU16(b, o + 18, 0);
  const len = hl + payloadLen;
  let sum = pseudoHeaderSum(env.localAddress(), dst, IpProtocol.Tcp, len);
  if (lead > 0) copyChain(payload!, lead, b, o + hl);
  sum = checksumAddWide(sum, b, o, hl + lead, stack.words); // header and copied bytes: one range
  if (lead < payloadLen) {
    // The rest as views (the driver releases what it sends).
    const views = lead === 0 ? payload!.cloneChain() : sliceChain(payload!, lead, payloadLen - lead);
    let rest = checksumFold(env.chainChecksumAdd(0, views));
    // Bytes that start at an odd offset of the segment sum byte-swapped (RFC 1071 2(B)).
    if ((lead & 1) === 1) rest = ((rest & 0xff) << 8) | (rest >>> 8);
    sum += rest;
    head.appendChain(views);
  }
  writeU16(b, o + 16, checksumFinish(sum));
  stack.stats.segmentsOut++;
  env.ipOutput(head, dst, len);
  return true;
}

/** Bytes at the front of the first `n` of a chain that are on the JS heap (up to its first physical element). */
function heapLead(chain: IOBuf, n: number): number {
  let lead = 0;
  let e = chain;
  do {
    if (e.length > 0 && e.physAddr() >= 0) break;
    lead += e.length;
    e = e.next;
  } while (e !== chain && lead < n);
  return Math.min(lead, n);
}

/** Copies the first `n` bytes of a chain to out[at...]. */
function copyChain(chain: IOBuf, n: number, out: Uint8Array, at: number): void {
  let e = chain;
  do {
    const k = Math.min(e.length, n);
    if (k > 0) {
      out.set(k === e.length && e.offset === 0 && e.bytes.length === k ? e.bytes : e.bytes.subarray(e.offset, e.offset + k), at);
      at += k;
      n -= k;
    }
    e = e.next;
  } while (e !== chain && n > 0);
}
