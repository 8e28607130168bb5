// UDP (RFC 768) sockets: a port → socket map, checksum-verified zero-copy delivery (the handler
// gets a view of the driver's receive buffer) and zero-copy send (the payload chain goes out
// behind one header buffer).

import { UsageError, type IOBuf } from '@ebbrt/interfaces';
import { chainChecksumAdd, checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { ipv4, ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { IPV4_MIN_HEADER_LEN, IpProtocol } from '../wire/ipv4.js';
import { writeU16 } from '../wire/result.js';
import { UDP_HEADER_LEN, UdpPacket } from '../wire/udp.js';
import { Icmpv4Unreachable } from '../wire/icmpv4.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig } from './env.js';
import type { EthernetLayer } from './ethernet.js';
import type { IcmpLayer } from './icmp.js';
import type { Ipv4Layer } from './ipv4.js';

export type UdpReceive = (from: { address: string; port: number }, data: IOBuf) => void;

export class UdpSocketImpl {
  closed = false;
  /** Binding is synchronous here: already resolved. */
  readonly bound: Promise<void> = Promise.resolve();
  constructor(
    private readonly layer: UdpLayer,
    readonly port: number,
    readonly receive: UdpReceive,
  ) {}

  sendTo(address: string, port: number, data: IOBuf): void {
    if (this.closed) throw new UsageError(`UDP socket ${this.port} is closed`);
    this.layer.send(this.port, address, port, data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.unbind(this);
  }
}

export class UdpLayer {
  private readonly sockets = new Map<number, UdpSocketImpl>();
  private readonly view = new UdpPacket(new Uint8Array(0), 0, 0);
  private nextEphemeral = 49152;

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly eth: EthernetLayer,
    private readonly ip: Ipv4Layer,
    private readonly icmp: IcmpLayer,
  ) {}

  /** An `L4Input`: keeps the frame (narrowed to the payload) when a socket takes it. */
  input = (frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address, dst: Ipv4Address): boolean => {
    const c = this.counters;
    const u = this.view;
    const f = u.wrap(bytes, off, len, src, dst);
    if (f !== null) {
      if (f.reason === 'bad-checksum') c.udpBadChecksum++;
      else c.udpMalformed++;
      return false;
    }
    const sock = this.sockets.get(u.dstPort);
    if (sock === undefined) {
      c.udpNoSocket++;
      // RFC 1122 4.1.3.1: tell the sender (ICMP port unreachable), subject to the ICMP error rules.
      this.icmp.sendUnreachable(Icmpv4Unreachable.Port, bytes, off, len, src);
      return false;
    }
    const srcPort = u.srcPort;
    const payloadOff = u.payloadOffset;
    const payloadLen = u.payloadLength;
    // Zero copy: the payload is the driver's receive buffer, narrowed to the datagram.
    frame.advance(payloadOff - frame.offset);
    frame.trimEnd(frame.length - payloadLen);
    c.udpDelivered++;
    try {
      sock.receive({ address: ipv4ToString(src), port: srcPort }, frame);
    } catch {
      c.handlerErrors++;
    }
    return true;
  };

  bind(port: number, receive: UdpReceive): UdpSocketImpl {
    if (typeof receive !== 'function') throw new UsageError('udpBind: receive must be a function');
    if (port === 0) port = this.ephemeralPort();
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`udpBind: port must be an integer in 0..65535, got ${port}`);
    if (this.sockets.has(port)) throw new UsageError(`udpBind: UDP port ${port} is already bound on ${this.config.name}`);
    const s = new UdpSocketImpl(this, port, receive);
    this.sockets.set(port, s);
    return s;
  }

  private ephemeralPort(): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === 65535 ? 49152 : p + 1;
      if (!this.sockets.has(p)) return p;
    }
    throw new UsageError('udpBind: no free ephemeral UDP port');
  }

  unbind(s: UdpSocketImpl): void {
    if (this.sockets.get(s.port) === s) this.sockets.delete(s.port);
  }

  /** Sends `data` (ownership passes to the stack) as one datagram, without copying physical buffers. */
  send(srcPort: number, address: string, dstPort: number, data: IOBuf): void {
    const dst = parseAddress(address);
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 0xffff) {
      throw new RangeError(`sendTo: port must be an integer in 1..65535, got ${dstPort}`);
    }
    const payloadLen = data.computeChainDataLength();
    const max = this.config.mtu - IPV4_MIN_HEADER_LEN - UDP_HEADER_LEN;
    if (payloadLen > max) throw new RangeError(`sendTo: ${payloadLen} bytes exceed the largest unfragmented datagram (${max})`);
    const l4 = this.eth.l4Offset;
    const head = this.eth.allocFrame(l4 + UDP_HEADER_LEN);
    if (head === null) {
      data.releaseChain();
      return;
    }
    const b = head.bytes;
    const u = head.offset + l4;
    const udpLen = UDP_HEADER_LEN + payloadLen;
    writeU16(b, u, srcPort);
    writeU16(b, u + 2, dstPort);
    writeU16(b, u + 4, udpLen);
    writeU16(b, u + 6, 0);
    let sum = pseudoHeaderSum(this.config.address, dst, IpProtocol.Udp, udpLen);
    sum = checksumAdd(sum, b, u, UDP_HEADER_LEN);
    sum = chainChecksumAdd(sum, data);
    const csum = checksumFinish(sum);
    writeU16(b, u + 6, csum === 0 ? 0xffff : csum);
    head.appendChain(data);
    this.counters.udpSent++;
    this.ip.output(head, dst, IpProtocol.Udp, udpLen);
  }
}

/** Parses a dotted quad for the socket API; throws RangeError naming the input. */
export function parseAddress(address: string): Ipv4Address {
  if (typeof address !== 'string') throw new RangeError(`invalid IPv4 address ${String(address)}`);
  return ipv4(address);
}
