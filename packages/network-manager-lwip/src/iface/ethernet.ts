// Ethernet II: receive demux by destination MAC and EtherType, transmit framing, and the frame
// layout every layer above builds into (the link's headroom, then Ethernet, IPv4, L4 headers).

import type { IOBuf } from '@ebbrt/interfaces';
import { ETHERNET_HEADER_LEN, EtherType, EthernetFrame } from '../wire/ethernet.js';
import { IPV4_MIN_HEADER_LEN } from '../wire/ipv4.js';
import { MAC_BROADCAST, writeMac, type MacAddress } from '../wire/mac-address.js';
import { writeU16 } from '../wire/result.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv, NetLink } from './env.js';

export class EthernetLayer {
  /** Where the Ethernet header starts in a chain head from `allocFrame`: after the link's headroom. */
  readonly ethOffset: number;
  /** Where the IPv4 (or ARP) header starts. */
  readonly ipOffset: number;
  /** Where the L4 (TCP/UDP/ICMP) header starts, for an IPv4 header without options. */
  readonly l4Offset: number;
  /** ARP payloads (set by the interface). */
  arpInput: (bytes: Uint8Array, off: number, len: number) => void = () => {};
  /** IPv4 payloads; returns true when it kept the frame (set by the interface). */
  ipv4Input: (frame: IOBuf, off: number, len: number, linkBroadcast: boolean) => boolean = () => false;
  private readonly view = new EthernetFrame(new Uint8Array(0), 0, 0);

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly link: NetLink,
  ) {
    this.ethOffset = link.headroom;
    this.ipOffset = this.ethOffset + ETHERNET_HEADER_LEN;
    this.l4Offset = this.ipOffset + IPV4_MIN_HEADER_LEN;
  }

  /** Returns true when the frame's ownership was passed on. */
  input(frame: IOBuf): boolean {
    const c = this.counters;
    const eth = this.view;
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
        return this.ipv4Input(frame, eth.payloadOffset, eth.payloadLength, dst === MAC_BROADCAST);
      default:
        c.ethUnknownType++;
        return false;
    }
  }

  /** A physical buffer for a frame: `size` bytes from the headroom on; null (counted) if out of memory. */
  allocFrame(size: number): IOBuf | null {
    try {
      return this.env.allocIOBuf(size);
    } catch {
      this.counters.noMemory++;
      return null;
    }
  }

  /** Writes our source MAC and the EtherType; the destination is written by `setDestination`. */
  writeHeader(chain: IOBuf, ethertype: number): void {
    const b = chain.bytes;
    const o = chain.offset + this.ethOffset;
    writeMac(b, o + 6, this.config.mac);
    writeU16(b, o + 12, ethertype);
  }

  setDestination(chain: IOBuf, dst: MacAddress): void {
    writeMac(chain.bytes, chain.offset + this.ethOffset, dst);
  }

  /** Hands a finished frame to the link (ownership passes). */
  send(chain: IOBuf): void {
    this.counters.txFrames++;
    this.link.transmit(chain);
  }
}
