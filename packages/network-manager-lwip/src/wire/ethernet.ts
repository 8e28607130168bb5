// Ethernet II frames (DIX / IEEE 802.3 with an EtherType >= 0x0600). The frame as virtio-net
// hands it over: no preamble, no FCS (the device strips/adds it), so the header is 14 bytes.
// Short frames are padded to 60 bytes on the wire: payload length here includes that padding,
// which is why IPv4 must trust its own total-length field, not the frame length.

import { PacketView } from './packet-view.js';
import { badField, checkSpace, checkUint, failure, rangeOk, readU16, writeU16, type ParseFailure } from './result.js';
import { readMac, writeMac, isMacAddress, type MacAddress } from './mac-address.js';

export const ETHERNET_HEADER_LEN = 14;
/** Minimum frame without FCS; a transmitter pads shorter frames (IEEE 802.3 clause 3.2.8). */
export const ETHERNET_MIN_FRAME_LEN = 60;

export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
} as const;

export type EthernetParseReason = 'truncated' | 'not-ethernet-ii';
const F_TRUNC = failure('truncated');
const F_8023 = failure('not-ethernet-ii');

export interface EthernetRepr {
  dst: MacAddress;
  src: MacAddress;
  ethertype: number;
}

export class EthernetFrame extends PacketView {
  /** Validates and wraps; never throws. Allocates only the view on success. */
  static parse(bytes: Uint8Array, offset = 0, length = bytes.length - offset): EthernetFrame | ParseFailure<EthernetParseReason> {
    const f = EthernetFrame.check(bytes, offset, length);
    return f ?? new EthernetFrame(bytes, offset, length);
  }

  /** Re-points this view at another frame (zero-allocation receive path). Returns the failure or null. */
  wrap(bytes: Uint8Array, offset: number, length: number): ParseFailure<EthernetParseReason> | null {
    const f = EthernetFrame.check(bytes, offset, length);
    return f ?? this.rebind(bytes, offset, length);
  }

  static check(bytes: Uint8Array, offset: number, length: number): ParseFailure<EthernetParseReason> | null {
    if (!rangeOk(bytes, offset, length) || length < ETHERNET_HEADER_LEN) return F_TRUNC;
    // Values < 0x0600 are an 802.3 length field (LLC follows); we only speak Ethernet II.
    if (readU16(bytes, offset + 12) < 0x0600) return F_8023;
    return null;
  }

  get dst(): MacAddress {
    return readMac(this.bytes, this.offset);
  }
  set dst(v: MacAddress) {
    writeMac(this.bytes, this.offset, v);
  }
  get src(): MacAddress {
    return readMac(this.bytes, this.offset + 6);
  }
  set src(v: MacAddress) {
    writeMac(this.bytes, this.offset + 6, v);
  }
  get ethertype(): number {
    return readU16(this.bytes, this.offset + 12);
  }
  set ethertype(v: number) {
    writeU16(this.bytes, this.offset + 12, v);
  }
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.length - ETHERNET_HEADER_LEN;
  }

  toRepr(): EthernetRepr {
    return { dst: this.dst, src: this.src, ethertype: this.ethertype };
  }
}

/** Writes the 14-byte header at `offset`; returns 14. Throws RangeError naming a bad field. */
export function emitEthernet(repr: EthernetRepr, bytes: Uint8Array, offset: number): number {
  if (!isMacAddress(repr.dst)) badField('dst', repr.dst, 'not a 48-bit MAC address');
  if (!isMacAddress(repr.src)) badField('src', repr.src, 'not a 48-bit MAC address');
  checkUint('ethertype', repr.ethertype, 16);
  if (repr.ethertype < 0x0600) badField('ethertype', repr.ethertype, 'values below 0x0600 are 802.3 lengths');
  checkSpace(bytes, offset, ETHERNET_HEADER_LEN);
  writeMac(bytes, offset, repr.dst);
  writeMac(bytes, offset + 6, repr.src);
  writeU16(bytes, offset + 12, repr.ethertype);
  return ETHERNET_HEADER_LEN;
}
