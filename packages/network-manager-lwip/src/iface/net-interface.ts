// The interface layer: Ethernet demux, ARP, IPv4 input/output, ICMP echo, UDP demux. One per
// node (eth0), shared by every core's rep. Receive runs on the core whose queue got the frame;
// transmit goes out on the calling core's TX queue. Received bytes never throw out of here:
// every malformed or unwanted frame is counted under one reason in `counters` and dropped.
//
// Buffer ownership: `input` owns the frame it is given and either releases it or hands it on
// (a UDP payload view goes to the socket's handler, which then owns it). `output` owns the chain.

import { cpu, EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, UsageError, type MemoryAllocator, type Timer, type TimerHandle } from '@ebbrt/interfaces';
import type { Simulation } from '@ebbrt/hw-x86sim';
import { VIRTIO_NET_HDR_BYTES } from '@ebbrt/hw-x86sim';
import { ARP_PACKET_LEN, ArpOperation, ArpPacket, emitArp } from '../wire/arp.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { ETHERNET_HEADER_LEN, EtherType, EthernetFrame } from '../wire/ethernet.js';
import { ICMPV4_HEADER_LEN, Icmpv4Packet, Icmpv4Type } from '../wire/icmpv4.js';
import { IPV4_BROADCAST, inSubnet, ipv4, ipv4ToString, isIpv4Broadcast, type Ipv4Address } from '../wire/ipv4-address.js';
import { IPV4_MIN_HEADER_LEN, IpProtocol, Ipv4Packet, emitIpv4 } from '../wire/ipv4.js';
import { Ipv4Reassembler } from '../wire/ipv4-reassembly.js';
import type { PhaseTrace } from '../phase-trace.js';
import { MAC_BROADCAST, isMacMulticast, writeMac, type MacAddress } from '../wire/mac-address.js';
import { UDP_HEADER_LEN, UdpPacket } from '../wire/udp.js';
import { writeU16 } from '../wire/result.js';
import { newCounters, type NetCounters } from './counters.js';

export interface IfaceConfig {
  name: string;
  mac: MacAddress;
  address: Ipv4Address;
  netmask: Ipv4Address;
  gateway: Ipv4Address | undefined;
  mtu: number;
  arpRetries: number;
  arpRetryUs: number;
  arpExpiryUs: number;
  arpQueueLimit: number;
  arpCacheSize: number;
}

/** Sends a finished frame chain (virtio header space first) on the current core's TX queue. */
export type TransmitFn = (chain: IOBuf) => void;

export type UdpReceive = (from: { address: string; port: number }, data: IOBuf) => void;

interface ArpEntry {
  mac: MacAddress;
  expiresNs: number;
}

interface ArpPending {
  queue: IOBuf[];
  tries: number;
  timer: TimerHandle | undefined;
}

interface EchoWaiter {
  sentNs: number;
  done: (rttNs: number) => void;
}

/** Where the link-layer headers start in a chain head: after the virtio-net header. */
const ETH_OFF = VIRTIO_NET_HDR_BYTES;
const IP_OFF = ETH_OFF + ETHERNET_HEADER_LEN;
const UDP_OFF = IP_OFF + IPV4_MIN_HEADER_LEN;
/** Where the L4 (TCP/UDP) header starts in a frame from allocFrame. */
export const L4_OFFSET = UDP_OFF;
const UDP_HEADERS = UDP_OFF + UDP_HEADER_LEN;
const NO_OPTIONS = new Uint8Array(0);
const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/** Adds an IOBuf chain's bytes to a running checksum sum, handling odd element boundaries. */
export function chainChecksumAdd(sum: number, chain: IOBuf): number {
  let odd = false;
  let e: IOBuf = chain;
  do {
    let off = e.offset;
    let len = e.length;
    const b = e.bytes;
    if (odd && len > 0) {
      sum += b[off]!; // low byte of the word begun by the previous element
      off++;
      len--;
      odd = false;
    }
    sum = checksumAdd(sum, b, off, len);
    if ((len & 1) === 1) odd = true;
    e = e.next;
  } while (e !== chain);
  return sum;
}

export class UdpSocketImpl {
  closed = false;
  /** Binding is synchronous here: already resolved. */
  readonly bound: Promise<void> = Promise.resolve();
  constructor(
    private readonly iface: NetInterface,
    readonly port: number,
    readonly receive: UdpReceive,
  ) {}

  sendTo(address: string, port: number, data: IOBuf): void {
    if (this.closed) throw new UsageError(`UDP socket ${this.port} is closed`);
    this.iface.udpSend(this.port, address, port, data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.iface.udpUnbind(this);
  }
}

export class NetInterface {
  readonly counters: NetCounters = newCounters();
  private readonly arpCache = new Map<Ipv4Address, ArpEntry>();
  private readonly arpPending = new Map<Ipv4Address, ArpPending>();
  private readonly udp = new Map<number, UdpSocketImpl>();
  private readonly echoWaiters = new Map<number, EchoWaiter>();
  private readonly reassembler = new Ipv4Reassembler({ timeout: 30e9 });
  private readonly eth = new EthernetFrame(new Uint8Array(0), 0, 0);
  private readonly arp = new ArpPacket(new Uint8Array(0), 0, 0);
  private readonly ip = new Ipv4Packet(new Uint8Array(0), 0, 0);
  private readonly icmp = new Icmpv4Packet(new Uint8Array(0), 0, 0);
  private readonly udpView = new UdpPacket(new Uint8Array(0), 0, 0);
  private ipId = 1;
  private nextEphemeral = 49152;
  private nextEchoId = 1;
  /**
   * TCP input hook (set by the TCP layer): takes ownership of `frame`, returns true when it kept
   * it. Without it, TCP counts as an unknown protocol.
   */
  tcpInput: ((frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address, dst: Ipv4Address) => boolean) | undefined;
  /** Stack spans for a latency breakdown; set only when the simulation traces. */
  phases: PhaseTrace | undefined = undefined;

  constructor(
    readonly config: IfaceConfig,
    private readonly sim: Simulation,
    private readonly transmit: TransmitFn,
  ) {}

  // ================================================================== receive

  /** A received Ethernet frame (a view of the driver's buffer). Takes ownership; never throws. */
  input = (frame: IOBuf): void => {
    const phases = this.phases;
    if (phases === undefined) return this.receive(frame);
    const t0 = phases.now();
    this.receive(frame);
    phases.end('stack', NetInterface.currentCoreIndex(), t0);
  };

  private receive(frame: IOBuf): void {
    this.counters.rxFrames++;
    let handedOff = false;
    try {
      handedOff = this.ethernetInput(frame);
    } catch {
      this.counters.internalErrors++;
    }
    if (!handedOff && !frame.isReleased) frame.release();
  }

  /** Returns true when the frame's ownership was passed on. */
  private ethernetInput(frame: IOBuf): boolean {
    const c = this.counters;
    const eth = this.eth;
    if (eth.wrap(frame.bytes, frame.offset, frame.length) !== null) {
      c.ethMalformed++;
      return false;
    }
    const dst = eth.dst;
    if (dst !== this.config.mac && dst !== MAC_BROADCAST) {
      c.ethNotForUs++;
      return false;
    }
    switch (eth.ethertype) {
      case EtherType.Arp:
        this.arpInput(frame.bytes, eth.payloadOffset, eth.payloadLength);
        return false;
      case EtherType.Ipv4:
        return this.ipInput(frame, eth.payloadOffset, eth.payloadLength);
      default:
        c.ethUnknownType++;
        return false;
    }
  }

  private arpInput(bytes: Uint8Array, off: number, len: number): void {
    const c = this.counters;
    const a = this.arp;
    if (a.wrap(bytes, off, len) !== null) {
      c.arpMalformed++;
      return;
    }
    const senderIp = a.senderIp;
    const senderMac = a.senderMac;
    const targetIp = a.targetIp;
    const op = a.operation;
    if (isMacMulticast(senderMac) || senderIp === 0 || senderIp === this.config.address) {
      c.arpIgnored++;
      return;
    }
    // RFC 826 merge: update an existing entry; add one when the packet is meant for us.
    const forUs = targetIp === this.config.address && targetIp !== 0; // unconfigured (DHCP): answer nothing
    if (forUs || this.arpCache.has(senderIp)) this.arpLearn(senderIp, senderMac);
    if (op === ArpOperation.Request) {
      if (!forUs) {
        c.arpIgnored++;
        return;
      }
      c.arpRequestsReceived++;
      this.sendArp(ArpOperation.Reply, senderMac, senderIp, senderMac);
      c.arpRepliesSent++;
    } else {
      if (forUs) c.arpRepliesReceived++;
      else c.arpIgnored++;
    }
  }

  private ipInput(frame: IOBuf, off: number, len: number): boolean {
    const c = this.counters;
    const ip = this.ip;
    const bytes = frame.bytes;
    const f = ip.wrap(bytes, off, len);
    if (f !== null) {
      if (f.reason === 'bad-checksum') c.ipBadChecksum++;
      else c.ipMalformed++;
      return false;
    }
    const dst = ip.dst;
    const cfg = this.config;
    if (dst !== cfg.address && dst !== IPV4_BROADCAST && !(inSubnet(dst, cfg.address, cfg.netmask) && isIpv4Broadcast(dst, cfg.netmask))) {
      c.ipNotForUs++;
      return false;
    }
    const src = ip.src;
    const protocol = ip.protocol;
    if (ip.isFragment) {
      c.ipFragments++;
      const r = this.reassembler.accept(ip, this.sim.now());
      if (r.kind === 'rejected') {
        c.ipFragmentsDropped++;
        return false;
      }
      if (r.kind === 'pending') return false;
      c.ipReassembled++;
      // The reassembled payload is a fresh heap copy; continue with it (the frame is released).
      const whole = new Uint8Array(ETHERNET_HEADER_LEN + r.payload.length);
      whole.set(r.payload, ETHERNET_HEADER_LEN);
      frame.release();
      return this.l4Input(IOBuf.wrap(whole), whole, ETHERNET_HEADER_LEN, r.payload.length, src, dst, protocol, true);
    }
    return this.l4Input(frame, bytes, ip.payloadOffset, ip.payloadLength, src, dst, protocol, false);
  }

  private l4Input(
    frame: IOBuf,
    bytes: Uint8Array,
    off: number,
    len: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: number,
    reassembled: boolean,
  ): boolean {
    const c = this.counters;
    if (protocol === IpProtocol.Udp) {
      const u = this.udpView;
      const f = u.wrap(bytes, off, len, src, dst);
      if (f !== null) {
        if (f.reason === 'bad-checksum') c.udpBadChecksum++;
        else c.udpMalformed++;
        if (reassembled) frame.release();
        return reassembled;
      }
      const sock = this.udp.get(u.dstPort);
      if (sock === undefined) {
        c.udpNoSocket++;
        if (reassembled) frame.release();
        return reassembled;
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
    }
    if (protocol === IpProtocol.Tcp && this.tcpInput !== undefined) {
      const kept = this.tcpInput(frame, bytes, off, len, src, dst);
      if (kept) return true;
      if (reassembled) frame.release();
      return reassembled;
    }
    if (protocol === IpProtocol.Icmp) {
      this.icmpInput(bytes, off, len, src);
    } else {
      c.ipUnknownProtocol++;
    }
    if (reassembled) frame.release();
    return reassembled;
  }

  private icmpInput(bytes: Uint8Array, off: number, len: number, src: Ipv4Address): void {
    const c = this.counters;
    const m = this.icmp;
    const f = m.wrap(bytes, off, len);
    if (f !== null) {
      if (f.reason === 'bad-checksum') c.icmpBadChecksum++;
      else c.icmpMalformed++;
      return;
    }
    if (m.code !== 0) {
      c.icmpIgnored++;
      return;
    }
    if (m.type === Icmpv4Type.EchoRequest) {
      c.icmpEchoRequests++;
      // Echo reply: same identifier, sequence and data (RFC 792); a new frame, data copied once.
      const dataLen = m.dataLength;
      const buf = this.allocFrame(UDP_OFF + ICMPV4_HEADER_LEN + dataLen);
      if (buf === null) return;
      const b = buf.bytes;
      const o = buf.offset + UDP_OFF;
      b[o] = Icmpv4Type.EchoReply;
      b[o + 1] = 0;
      writeU16(b, o + 2, 0);
      b.set(bytes.subarray(m.offset + 4, m.offset + len), o + 4);
      writeU16(b, o + 2, checksumFinish(checksumAdd(0, b, o, ICMPV4_HEADER_LEN + dataLen)));
      this.ipOutput(buf, src, IpProtocol.Icmp, ICMPV4_HEADER_LEN + dataLen);
      c.icmpEchoRepliesSent++;
      return;
    }
    if (m.type === Icmpv4Type.EchoReply) {
      const key = m.identifier * 0x10000 + m.sequence;
      const w = this.echoWaiters.get(key);
      if (w === undefined) {
        c.icmpUnmatchedReplies++;
        return;
      }
      this.echoWaiters.delete(key);
      c.icmpEchoRepliesReceived++;
      w.done(this.sim.now() - w.sentNs);
      return;
    }
    c.icmpIgnored++;
  }

  // ================================================================== ARP

  private arpLearn(ip: Ipv4Address, mac: MacAddress): void {
    const cache = this.arpCache;
    if (!cache.has(ip) && cache.size >= this.config.arpCacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.delete(ip); // re-insert: Map order = age
    cache.set(ip, { mac, expiresNs: this.sim.now() + this.config.arpExpiryUs * 1000 });
    const pending = this.arpPending.get(ip);
    if (pending !== undefined) {
      this.arpPending.delete(ip);
      pending.timer?.stop();
      for (const chain of pending.queue) {
        writeMac(chain.bytes, chain.offset + ETH_OFF, mac);
        this.send(chain);
      }
    }
  }

  /** Cached MAC of `ip`, or -1 (expired entries are removed). */
  arpLookup(ip: Ipv4Address): MacAddress {
    const e = this.arpCache.get(ip);
    if (e === undefined) return -1;
    if (e.expiresNs <= this.sim.now()) {
      this.arpCache.delete(ip);
      return -1;
    }
    return e.mac;
  }

  /** Snapshot of the ARP cache, for tests and tools. */
  arpEntries(): Array<{ address: string; mac: MacAddress; expiresNs: number }> {
    return [...this.arpCache].map(([ip, e]) => ({ address: ipv4ToString(ip), mac: e.mac, expiresNs: e.expiresNs }));
  }

  private sendArp(op: ArpOperation, ethDst: MacAddress, targetIp: Ipv4Address, targetMac: MacAddress): void {
    const buf = this.allocFrame(IP_OFF + ARP_PACKET_LEN);
    if (buf === null) return;
    const b = buf.bytes;
    writeMac(b, buf.offset + ETH_OFF, ethDst);
    writeMac(b, buf.offset + ETH_OFF + 6, this.config.mac);
    writeU16(b, buf.offset + ETH_OFF + 12, EtherType.Arp);
    emitArp({ operation: op, senderMac: this.config.mac, senderIp: this.config.address, targetMac, targetIp }, b, buf.offset + IP_OFF);
    this.send(buf);
  }

  private arpResolve(nextHop: Ipv4Address, chain: IOBuf): void {
    const c = this.counters;
    let p = this.arpPending.get(nextHop);
    if (p === undefined) {
      p = { queue: [], tries: 0, timer: undefined };
      this.arpPending.set(nextHop, p);
      this.arpRequest(nextHop, p);
    }
    if (p.queue.length >= this.config.arpQueueLimit) {
      c.arpQueueFull++;
      chain.releaseChain();
      return;
    }
    p.queue.push(chain);
  }

  private arpRequest(ip: Ipv4Address, p: ArpPending): void {
    p.tries++;
    this.counters.arpRequestsSent++;
    this.sendArp(ArpOperation.Request, MAC_BROADCAST, ip, 0);
    p.timer = timerRef.deref().start(() => {
      if (this.arpPending.get(ip) !== p) return;
      if (p.tries <= this.config.arpRetries) {
        this.counters.arpRetries++;
        this.arpRequest(ip, p);
        return;
      }
      this.arpPending.delete(ip);
      this.counters.arpFailed += p.queue.length;
      for (const chain of p.queue) chain.releaseChain();
    }, this.config.arpRetryUs);
  }

  // ================================================================== transmit

  /** A physical buffer for a frame: `size` bytes from the virtio header on; null (counted) if out of memory. */
  allocFrame(size: number): IOBuf | null {
    try {
      return memRef.deref().allocIOBuf(size);
    } catch {
      this.counters.noMemory++;
      return null;
    }
  }

  private send(chain: IOBuf): void {
    this.counters.txFrames++;
    this.transmit(chain);
  }

  /**
   * Writes the IPv4 header (at UDP_OFF - 20 of the head element) and routes the chain: next hop
   * on the subnet or via the gateway, MAC from the ARP cache or after resolution.
   */
  private ipOutput(chain: IOBuf, dst: Ipv4Address, protocol: number, payloadLength: number): void {
    const cfg = this.config;
    const b = chain.bytes;
    const o = chain.offset;
    emitIpv4(
      {
        src: cfg.address,
        dst,
        protocol,
        ttl: 64,
        payloadLength,
        identification: this.ipId,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        dscp: 0,
        ecn: 0,
        options: NO_OPTIONS,
      },
      b,
      o + IP_OFF,
    );
    this.ipId = (this.ipId + 1) & 0xffff;
    writeMac(b, o + ETH_OFF + 6, cfg.mac);
    writeU16(b, o + ETH_OFF + 12, EtherType.Ipv4);
    if (dst === IPV4_BROADCAST || (inSubnet(dst, cfg.address, cfg.netmask) && isIpv4Broadcast(dst, cfg.netmask))) {
      writeMac(b, o + ETH_OFF, MAC_BROADCAST);
      this.send(chain);
      return;
    }
    let nextHop = dst;
    if (!inSubnet(dst, cfg.address, cfg.netmask)) {
      if (cfg.gateway === undefined) {
        this.counters.noRoute++;
        chain.releaseChain();
        return;
      }
      nextHop = cfg.gateway;
    }
    const mac = this.arpLookup(nextHop);
    if (mac < 0) {
      this.arpResolve(nextHop, chain);
      return;
    }
    writeMac(b, o + ETH_OFF, mac);
    this.send(chain);
  }

  /** Sends a TCP segment whose header starts at L4_OFFSET of the head element (ownership taken). */
  tcpOutput(chain: IOBuf, dst: Ipv4Address, tcpLength: number): void {
    this.ipOutput(chain, dst, IpProtocol.Tcp, tcpLength);
  }

  // ================================================================== UDP

  udpBind(port: number, receive: UdpReceive): UdpSocketImpl {
    if (typeof receive !== 'function') throw new UsageError('udpBind: receive must be a function');
    if (port === 0) port = this.ephemeralPort();
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`udpBind: port must be an integer in 0..65535, got ${port}`);
    if (this.udp.has(port)) throw new UsageError(`udpBind: UDP port ${port} is already bound on ${this.config.name}`);
    const s = new UdpSocketImpl(this, port, receive);
    this.udp.set(port, s);
    return s;
  }

  private ephemeralPort(): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === 65535 ? 49152 : p + 1;
      if (!this.udp.has(p)) return p;
    }
    throw new UsageError('udpBind: no free ephemeral UDP port');
  }

  udpUnbind(s: UdpSocketImpl): void {
    if (this.udp.get(s.port) === s) this.udp.delete(s.port);
  }

  /** Sends `data` (ownership passes to the stack) as one datagram, without copying physical buffers. */
  udpSend(srcPort: number, address: string, dstPort: number, data: IOBuf): void {
    const dst = parseAddress(address);
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 0xffff) {
      throw new RangeError(`sendTo: port must be an integer in 1..65535, got ${dstPort}`);
    }
    const payloadLen = data.computeChainDataLength();
    const max = this.config.mtu - IPV4_MIN_HEADER_LEN - UDP_HEADER_LEN;
    if (payloadLen > max) throw new RangeError(`sendTo: ${payloadLen} bytes exceed the largest unfragmented datagram (${max})`);
    const head = this.allocFrame(UDP_HEADERS);
    if (head === null) {
      data.releaseChain();
      return;
    }
    const b = head.bytes;
    const u = head.offset + UDP_OFF;
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
    this.ipOutput(head, dst, IpProtocol.Udp, udpLen);
  }

  // ================================================================== ICMP echo (ping)

  /** Sends one echo request; `done(rttNs)` runs when the matching reply arrives (on the receiving core). */
  sendEchoRequest(dst: Ipv4Address, identifier: number, sequence: number, payloadSize: number, done: (rttNs: number) => void): void {
    const len = ICMPV4_HEADER_LEN + payloadSize;
    const buf = this.allocFrame(UDP_OFF + len);
    if (buf === null) return;
    const b = buf.bytes;
    const o = buf.offset + UDP_OFF;
    b[o] = Icmpv4Type.EchoRequest;
    b[o + 1] = 0;
    writeU16(b, o + 2, 0);
    writeU16(b, o + 4, identifier);
    writeU16(b, o + 6, sequence);
    for (let i = 0; i < payloadSize; i++) b[o + 8 + i] = (i + sequence) & 0xff;
    writeU16(b, o + 2, checksumFinish(checksumAdd(0, b, o, len)));
    this.echoWaiters.set(identifier * 0x10000 + sequence, { sentNs: this.sim.now(), done });
    this.ipOutput(buf, dst, IpProtocol.Icmp, len);
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

  /** Current core index (for callers that route by core). */
  static currentCoreIndex(): number {
    return cpu.current?.index ?? 0;
  }
}

/** Parses a dotted quad for the socket API; throws RangeError naming the input. */
export function parseAddress(address: string): Ipv4Address {
  if (typeof address !== 'string') throw new RangeError(`invalid IPv4 address ${String(address)}`);
  return ipv4(address);
}
