// ICMPv4 (RFC 792): echo requests answered (identifier, sequence and data echoed), echo requests
// sent for `ping` and their replies matched to waiters, and destination-unreachable errors for
// the layers above (UDP's closed ports), sent under RFC 1122 3.2.2's rules and a token bucket.

import type { IOBuf } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish } from '../wire/checksum.js';
import { ICMPV4_HEADER_LEN, Icmpv4Packet, Icmpv4Type } from '../wire/icmpv4.js';
import type { Ipv4Address } from '../wire/ipv4-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { writeU16 } from '../wire/result.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv } from './env.js';
import { IcmpRateLimiter } from './icmp-rate-limit.js';
import type { EthernetLayer } from './ethernet.js';
import type { Ipv4Layer } from './ipv4.js';

interface EchoWaiter {
  sentNs: number;
  done: (rttNs: number) => void;
}

export class IcmpLayer {
  private readonly echoWaiters = new Map<number, EchoWaiter>();
  private readonly view = new Icmpv4Packet(new Uint8Array(0), 0, 0);
  private nextEchoId = 1;
  private readonly limiter: IcmpRateLimiter;

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly eth: EthernetLayer,
    private readonly ip: Ipv4Layer,
  ) {
    this.limiter = new IcmpRateLimiter({
      ratePerSec: config.icmpErrorRatePerSec,
      burst: config.icmpErrorBurst,
      peerIntervalUs: config.icmpErrorPeerIntervalUs,
      peerBurst: config.icmpErrorPeerBurst,
      maxPeers: 1024,
    });
  }

  /** An `L4Input`: never keeps the frame. */
  input = (_frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address): boolean => {
    const c = this.counters;
    const m = this.view;
    const f = m.wrap(bytes, off, len);
    if (f !== null) {
      if (f.reason === 'bad-checksum') c.icmpBadChecksum++;
      else c.icmpMalformed++;
      return false;
    }
    if (m.code !== 0) {
      c.icmpIgnored++;
      return false;
    }
    if (m.type === Icmpv4Type.EchoRequest) {
      // A ping to a broadcast address would make every host answer one sender (a smurf
      // amplifier); Linux ignores these by default (icmp_echo_ignore_broadcasts = 1), so do we.
      if (this.ip.current.ipBroadcast && this.config.icmpEchoIgnoreBroadcasts) {
        c.icmpEchoBroadcastIgnored++;
        return false;
      }
      c.icmpEchoRequests++;
      // Echo reply: same identifier, sequence and data (RFC 792); a new frame, data copied once.
      const dataLen = m.dataLength;
      const l4 = this.eth.l4Offset;
      const buf = this.eth.allocFrame(l4 + ICMPV4_HEADER_LEN + dataLen);
      if (buf === null) return false;
      const b = buf.bytes;
      const o = buf.offset + l4;
      b[o] = Icmpv4Type.EchoReply;
      b[o + 1] = 0;
      writeU16(b, o + 2, 0);
      b.set(bytes.subarray(m.offset + 4, m.offset + len), o + 4);
      writeU16(b, o + 2, checksumFinish(checksumAdd(0, b, o, ICMPV4_HEADER_LEN + dataLen)));
      this.ip.output(buf, src, IpProtocol.Icmp, ICMPV4_HEADER_LEN + dataLen);
      c.icmpEchoRepliesSent++;
      return false;
    }
    if (m.type === Icmpv4Type.EchoReply) {
      const key = m.identifier * 0x10000 + m.sequence;
      const w = this.echoWaiters.get(key);
      if (w === undefined) {
        c.icmpUnmatchedReplies++;
        return false;
      }
      this.echoWaiters.delete(key);
      c.icmpEchoRepliesReceived++;
      w.done(this.env.nowNs() - w.sentNs);
      return false;
    }
    c.icmpIgnored++;
    return false;
  };

  /**
   * Destination unreachable (type 3, `code`) about the datagram being handed up, whose L4 data is
   * `bytes[off, off+len)` from `src`: quotes its IP header and first 8 data bytes (RFC 792).
   * Not sent (RFC 1122 3.2.2) for a datagram to a broadcast address or in a link-layer broadcast,
   * from a source that is not one host (0.0.0.0; broadcast, multicast and loopback never get this
   * far), or while we have no address; nor beyond the global or the peer's rate (icmp-rate-limit.ts).
   */
  sendUnreachable(code: number, bytes: Uint8Array, off: number, len: number, src: Ipv4Address): void {
    const c = this.counters;
    const cur = this.ip.current;
    if (cur.ipBroadcast || cur.linkBroadcast || src === 0 || this.config.address === 0) {
      c.icmpErrorsSuppressed++;
      return;
    }
    if (!this.limiter.allow(src, this.env.nowNs())) {
      c.icmpErrorsRateLimited++;
      return;
    }
    const quoted = Math.min(len, 8);
    const l4 = this.eth.l4Offset;
    const buf = this.eth.allocFrame(l4 + ICMPV4_HEADER_LEN + 60 + quoted);
    if (buf === null) return;
    const b = buf.bytes;
    const o = buf.offset + l4;
    b[o] = Icmpv4Type.DestUnreachable;
    b[o + 1] = code;
    writeU16(b, o + 2, 0);
    writeU16(b, o + 4, 0); // unused (RFC 792); next-hop MTU only for code 4 (RFC 1191)
    writeU16(b, o + 6, 0);
    const hl = this.ip.quoteHeader(b, o + ICMPV4_HEADER_LEN, len);
    b.set(bytes.subarray(off, off + quoted), o + ICMPV4_HEADER_LEN + hl);
    const msgLen = ICMPV4_HEADER_LEN + hl + quoted;
    buf.trimEnd(buf.length - (l4 + msgLen)); // room was reserved for a 60-byte header
    writeU16(b, o + 2, checksumFinish(checksumAdd(0, b, o, msgLen)));
    c.icmpUnreachableSent++;
    this.ip.output(buf, src, IpProtocol.Icmp, msgLen);
  }

  /** Sends one echo request; `done(rttNs)` runs when the matching reply arrives (on the receiving core). */
  sendEchoRequest(dst: Ipv4Address, identifier: number, sequence: number, payloadSize: number, done: (rttNs: number) => void): void {
    const len = ICMPV4_HEADER_LEN + payloadSize;
    const l4 = this.eth.l4Offset;
    const buf = this.eth.allocFrame(l4 + len);
    if (buf === null) return;
    const b = buf.bytes;
    const o = buf.offset + l4;
    b[o] = Icmpv4Type.EchoRequest;
    b[o + 1] = 0;
    writeU16(b, o + 2, 0);
    writeU16(b, o + 4, identifier);
    writeU16(b, o + 6, sequence);
    for (let i = 0; i < payloadSize; i++) b[o + 8 + i] = (i + sequence) & 0xff;
    writeU16(b, o + 2, checksumFinish(checksumAdd(0, b, o, len)));
    this.echoWaiters.set(identifier * 0x10000 + sequence, { sentNs: this.env.nowNs(), done });
    this.ip.output(buf, dst, IpProtocol.Icmp, len);
  }

  /** Forgets a waiter (timed out). */
  cancelEcho(identifier: number, sequence: number): void {
    this.echoWaiters.delete(identifier * 0x10000 + sequence);
  }

  newEchoIdentifier(): number {
    const id = this.nextEchoId;
    this.nextEchoId = (id % 0xffff) + 1;
    return id;
  }
}
