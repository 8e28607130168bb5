// IPv4 (RFC 791) input and output: header validation, the destination check, fragment
// reassembly, the protocol demux to ICMP/UDP/TCP, and routing on output (on-subnet directly,
// otherwise via the gateway; broadcast to the broadcast MAC; ARP for the next hop).

import { IOBuf } from '@ebbrt/interfaces';
import { ETHERNET_HEADER_LEN, EtherType } from '../wire/ethernet.js';
import { IPV4_BROADCAST, inSubnet, isIpv4Broadcast, type Ipv4Address } from '../wire/ipv4-address.js';
import { IpProtocol, Ipv4Packet, emitIpv4 } from '../wire/ipv4.js';
import { Ipv4Reassembler } from '../wire/ipv4-reassembly.js';
import { MAC_BROADCAST } from '../wire/mac-address.js';
import type { ArpLayer } from './arp.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv, L4Input } from './env.js';
import type { EthernetLayer } from './ethernet.js';

const NO_OPTIONS = new Uint8Array(0);

export class Ipv4Layer {
  /** Protocol handlers (set by the interface and the TCP layer); a missing one counts `ipUnknownProtocol`. */
  icmpInput: L4Input | undefined;
  udpInput: L4Input | undefined;
  tcpInput: L4Input | undefined;
  private readonly reassembler = new Ipv4Reassembler({ timeout: 30e9 });
  private readonly view = new Ipv4Packet(new Uint8Array(0), 0, 0);
  private ipId = 1;

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly eth: EthernetLayer,
    private readonly arp: ArpLayer,
  ) {}

  /** The IPv4 packet at `frame.bytes[off, off+len)`. Returns true when the frame's ownership was passed on. */
  input(frame: IOBuf, off: number, len: number): boolean {
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
    if (dst !== cfg.address && dst !== IPV4_BROADCAST && !(inSubnet(dst, cfg.address, cfg.netmask) && isIpv4Broadcast(dst, cfg.netmask))) {
      c.ipNotForUs++;
      return false;
    }
    const src = ip.src;
    const protocol = ip.protocol;
    if (ip.isFragment) {
      c.ipFragments++;
      const r = this.reassembler.accept(ip, this.env.nowNs());
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
      if (!this.demux(copy, whole, ETHERNET_HEADER_LEN, r.payload.length, src, dst, protocol)) copy.release();
      return true; // the original frame is released already
    }
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
   * Writes the IPv4 header (at the layout's IP offset of the head element) and routes the chain:
   * next hop on the subnet or via the gateway, MAC from the ARP cache or after resolution.
   * Ownership of `chain` passes.
   */
  output(chain: IOBuf, dst: Ipv4Address, protocol: number, payloadLength: number): void {
    const cfg = this.config;
    const eth = this.eth;
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
      chain.bytes,
      chain.offset + eth.ipOffset,
    );
    this.ipId = (this.ipId + 1) & 0xffff;
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
