// ICMPv4 (RFC 792): echo requests answered (identifier, sequence and data echoed), echo requests
// sent for `ping` and their replies matched to waiters.

import type { IOBuf } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish } from '../wire/checksum.js';
import { ICMPV4_HEADER_LEN, Icmpv4Packet, Icmpv4Type } from '../wire/icmpv4.js';
import type { Ipv4Address } from '../wire/ipv4-address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { writeU16 } from '../wire/result.js';
import type { NetCounters } from './counters.js';
import type { IfaceEnv } from './env.js';
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

  constructor(
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly eth: EthernetLayer,
    private readonly ip: Ipv4Layer,
  ) {}

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
