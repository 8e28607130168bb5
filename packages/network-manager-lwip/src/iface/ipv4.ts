// IPv4 (RFC 791) input and output: header validation, the destination and source checks,
// fragment reassembly (expired on a timer), the protocol demux to ICMP/UDP/TCP, and on output
// fragmentation above the MTU and routing (on-subnet directly, otherwise via the gateway;
// broadcast to the broadcast MAC; ARP for the next hop).

import { IOBuf, type TimerHandle } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish } from '../wire/checksum.js';
import { ETHERNET_HEADER_LEN, EtherType } from '../wire/ethernet.js';
import { IPV4_BROADCAST, inSubnet, isIpv4Broadcast, isIpv4Loopback, isIpv4Multicast, maskToPrefix, type Ipv4Address } from '../wire/ipv4-address.js';
import { IPV4_MIN_HEADER_LEN, IpProtocol, Ipv4Packet, writeIpv4Header, type Ipv4Repr } from '../wire/ipv4.js';
import { Ipv4Reassembler } from '../wire/ipv4-reassembly.js';
import { MAC_BROADCAST } from '../wire/mac-address.js';
import { writeU16 } from '../wire/result.js';
import type { ArpLayer } from './arp.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv, L4Input } from './env.js';
import type { EthernetLayer } from './ethernet.js';

const NO_OPTIONS = new Uint8Array(0);

/** How the datagram being handed up arrived: what an ICMP error about it must respect (RFC 1122 3.2.2). */
export interface InputContext {
  /** The frame was a link-layer broadcast. */
  linkBroadcast: boolean;
  /** The destination was a broadcast (limited or the subnet's). */
  ipBroadcast: boolean;
  /** The datagram was reassembled from fragments. */
  reassembled: boolean;
}

export class Ipv4Layer {
  /** Protocol handlers (set by the interface and the TCP layer); a missing one counts `ipUnknownProtocol`. */
  icmpInput: L4Input | undefined;
  udpInput: L4Input | undefined;
  tcpInput: L4Input | undefined;
  /** Valid while an upper layer's input runs: how the current datagram arrived. */
  readonly current: InputContext = { linkBroadcast: false, ipBroadcast: false, reassembled: false };
  private readonly reassembler: Ipv4Reassembler;
  private readonly view = new Ipv4Packet(new Uint8Array(0), 0, 0);
  private readonly repr: Ipv4Repr = {
    src: 0,
    dst: 0,
    protocol: 0,
    ttl: 64,
    payloadLength: 0,
    identification: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    dscp: 0,
    ecn: 0,
    options: NO_OPTIONS,
  };
  private expiryTimer: TimerHandle | undefined = undefined;
  private ipId = 1;

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly eth: EthernetLayer,
    private readonly arp: ArpLayer,
  ) {
    this.reassembler = new Ipv4Reassembler({ timeout: config.ipReassemblyTimeoutUs * 1000 });
  }

  /** The IPv4 packet at `frame.bytes[off, off+len)`. Returns true when the frame's ownership was passed on. */
  input(frame: IOBuf, off: number, len: number, linkBroadcast: boolean): boolean {
    const c = this.counters;
    const ip = this.view;
    const bytes = frame.bytes;
    const f = ip.wrap(bytes, off, len);
    if (f !== null) {
      if (f.reason === 'bad-checksum') c.ipBadChecksum++;
      else c.ipMalformed++;
      return false;
    }
    const dst = ip.dst;
    const cfg = this.config;
    const subnetBroadcast = inSubnet(dst, cfg.address, cfg.netmask) && isIpv4Broadcast(dst, cfg.netmask);
    if (dst !== cfg.address && dst !== IPV4_BROADCAST && !subnetBroadcast) {
      c.ipNotForUs++;
      return false;
    }
    const src = ip.src;
    // RFC 1122 3.2.1.3: a host silently discards a datagram whose source is not one host:
    // answering it (echo, SYN-ACK, RST, port unreachable) would go to a whole segment or group.
    // 0.0.0.0 stays allowed (a DHCP client before it has an address, RFC 2131).
    if (src === IPV4_BROADCAST || (maskToPrefix(cfg.netmask) <= 30 && inSubnet(src, cfg.address, cfg.netmask) && isIpv4Broadcast(src, cfg.netmask))) {
      c.ipSourceBroadcast++;
      return false;
    }
    if (isIpv4Multicast(src)) {
      c.ipSourceMulticast++;
      return false;
    }
    if (isIpv4Loopback(src)) {
      c.ipSourceLoopback++;
      return false;
    }
    const protocol = ip.protocol;
    const cur = this.current;
    cur.linkBroadcast = linkBroadcast;
    cur.ipBroadcast = dst !== cfg.address;
    if (ip.isFragment) {
      c.ipFragments++;
      const r = this.reassembler.accept(ip, this.env.nowNs());
      this.afterReassembly();
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
      const copy = IOBuf.wrap(whole);
      cur.reassembled = true;
      if (!this.demux(copy, whole, ETHERNET_HEADER_LEN, r.payload.length, src, dst, protocol)) copy.release();
      return true; // the original frame is released already
    }
    cur.reassembled = false;
    return this.demux(frame, bytes, ip.payloadOffset, ip.payloadLength, src, dst, protocol);
  }

  private demux(frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address, dst: Ipv4Address, protocol: number): boolean {
    const handler = protocol === IpProtocol.Tcp ? this.tcpInput : protocol === IpProtocol.Udp ? this.udpInput : protocol === IpProtocol.Icmp ? this.icmpInput : undefined;
    if (handler === undefined) {
      this.counters.ipUnknownProtocol++;
      return false;
    }
    return handler(frame, bytes, off, len, src, dst);
  }

  /**
   * Keeps one timer armed at the earliest reassembly deadline while datagrams are pending (none
   * when nothing is: the timer costs nothing on a path without fragments).
   */
  private afterReassembly(): void {
    const r = this.reassembler;
    const c = this.counters;
    c.ipReassemblyTimeouts = r.timedOut;
    c.ipReassemblyEvicted = r.evicted;
    const next = r.nextDeadline;
    if (next === undefined) {
      this.expiryTimer?.stop();
      this.expiryTimer = undefined;
      return;
    }
    if (this.expiryTimer !== undefined) return;
    const delayUs = Math.max(1, Math.ceil((next - this.env.nowNs()) / 1000));
    this.expiryTimer = this.env.startTimer(() => {
      this.expiryTimer = undefined;
      r.expire(this.env.nowNs());
      this.afterReassembly();
    }, delayUs);
  }

  /** Datagrams under reassembly (for tests and tools). */
  get reassemblyPending(): number {
    return this.reassembler.pendingDatagrams;
  }

  /**
   * Writes the IPv4 header of the datagram being handed up (the one `current` describes, whose
   * L4 data is `l4Len` bytes) at `out[o]`, as it was before fragmentation: an ICMP error quotes
   * it (RFC 792). Returns the header length.
   */
  quoteHeader(out: Uint8Array, o: number, l4Len: number): number {
    const ip = this.view;
    const hl = ip.headerLength;
    out.set(ip.bytes.subarray(ip.offset, ip.offset + hl), o);
    if (this.current.reassembled) {
      writeU16(out, o + 2, hl + l4Len);
      writeU16(out, o + 6, ip.dontFragment ? 0x4000 : 0);
      writeU16(out, o + 10, 0);
      writeU16(out, o + 10, checksumFinish(checksumAdd(0, out, o, hl)));
    }
    return hl;
  }

  /**
   * Writes the IPv4 header (at the layout's IP offset of the head element) and routes the chain:
   * next hop on the subnet or via the gateway, MAC from the ARP cache or after resolution.
   * Above the MTU the datagram goes out in fragments (copies). Ownership of `chain` passes.
   */
  output(chain: IOBuf, dst: Ipv4Address, protocol: number, payloadLength: number): void {
    if (IPV4_MIN_HEADER_LEN + payloadLength > this.config.mtu) {
      this.fragmentOutput(chain, dst, protocol, payloadLength);
      return;
    }
    this.emitHeader(chain, dst, protocol, payloadLength, this.ipId, true, false, 0);
    this.ipId = (this.ipId + 1) & 0xffff;
    this.route(chain, dst);
  }

  private emitHeader(chain: IOBuf, dst: Ipv4Address, protocol: number, payloadLength: number, id: number, df: boolean, more: boolean, fragOffset: number): void {
    // One repr reused for every datagram: no object per frame. Valid by construction (our address,
    // a 16-bit id, a length output() bounded by the MTU), so the unchecked writer.
    const r = this.repr;
    r.src = this.config.address;
    r.dst = dst;
    r.protocol = protocol;
    r.payloadLength = payloadLength;
    r.identification = id;
    r.dontFragment = df;
    r.moreFragments = more;
    r.fragmentOffset = fragOffset;
    writeIpv4Header(r, chain.bytes, chain.offset + this.eth.ipOffset);
  }

  /** RFC 791 fragmentation: pieces of a multiple of 8 bytes, one identification, MF on all but the last. */
  private fragmentOutput(chain: IOBuf, dst: Ipv4Address, protocol: number, payloadLength: number): void {
    const eth = this.eth;
    const l4 = eth.l4Offset;
    const maxData = (this.config.mtu - IPV4_MIN_HEADER_LEN) & ~7;
    const id = this.ipId;
    this.ipId = (id + 1) & 0xffff;
    // Walk the chain once: `e`/`eOff` is where the next data byte is.
    let e: IOBuf = chain;
    let eOff = chain.offset + l4;
    for (let off = 0; off < payloadLength; ) {
      const n = Math.min(maxData, payloadLength - off);
      const buf = eth.allocFrame(l4 + n);
      if (buf === null) break; // counted noMemory; the rest of the datagram is lost, as on a drop
      let w = buf.offset + l4;
      for (let left = n; left > 0; ) {
        const avail = e.offset + e.length - eOff;
        if (avail <= 0) {
          e = e.next;
          eOff = e.offset;
          continue;
        }
        const k = Math.min(avail, left);
        buf.bytes.set(e.bytes.subarray(eOff, eOff + k), w);
        w += k;
        eOff += k;
        left -= k;
      }
      const more = off + n < payloadLength;
      this.emitHeader(buf, dst, protocol, n, id, false, more, off);
      this.counters.ipFragmentsSent++;
      this.route(buf, dst);
      off += n;
    }
    chain.releaseChain();
  }

  private route(chain: IOBuf, dst: Ipv4Address): void {
    const cfg = this.config;
    const eth = this.eth;
    eth.writeHeader(chain, EtherType.Ipv4);
    if (dst === IPV4_BROADCAST || (inSubnet(dst, cfg.address, cfg.netmask) && isIpv4Broadcast(dst, cfg.netmask))) {
      eth.setDestination(chain, MAC_BROADCAST);
      eth.send(chain);
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
    const mac = this.arp.lookup(nextHop);
    if (mac < 0) {
      this.arp.resolve(nextHop, chain);
      return;
    }
    eth.setDestination(chain, mac);
    eth.send(chain);
  }
}
