// IPv4 header (RFC 791). The view trusts the header's own total-length field, not the length
// it is given: Ethernet pads short frames, so `length` may exceed the datagram.

import { PacketView } from './packet-view.js';
import { checksumAdd, checksumFold, internetChecksum } from './checksum.js';
import { isIpv4Address, type Ipv4Address } from './ipv4-address.js';
import {
  badField,
  checkSpace,
  checkUint,
  failure,
  rangeOk,
  readU16,
  readU32,
  writeU16,
  writeU32,
  type ParseFailure,
} from './result.js';

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
export const IPV4_MAX_TOTAL_LEN = 65535;

export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;

export type Ipv4ParseReason = 'truncated' | 'bad-version' | 'bad-header-length' | 'bad-total-length' | 'bad-checksum';
const F_TRUNC = failure('truncated');
const F_VER = failure('bad-version');
const F_IHL = failure('bad-header-length');
const F_TOTAL = failure('bad-total-length');
const F_CSUM = failure('bad-checksum');

export interface Ipv4Repr {
  src: Ipv4Address;
  dst: Ipv4Address;
  protocol: number;
  ttl: number;
  /** Bytes after the header (total length - header length). */
  payloadLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes (a multiple of 8; the wire stores it in 8-byte units). */
  fragmentOffset: number;
  dscp: number;
  ecn: number;
  /** Raw options bytes (multiple of 4, at most 40), or empty. Parsed reprs alias the packet. */
  options: Uint8Array;
}

export class Ipv4Packet extends PacketView {
  // `length`: The datagram's length: the header's total length (not the possibly padded buffer length).

  /**
   * Validates and wraps the datagram at `offset`; `length` is the available bytes (e.g. the
   * Ethernet payload). With `verifyChecksum` false the header checksum is not checked (for a
   * device that validated it already); structure is always checked. Never throws.
   */
  static parse(
    bytes: Uint8Array,
    offset = 0,
    length = bytes.length - offset,
    verifyChecksum = true,
  ): Ipv4Packet | ParseFailure<Ipv4ParseReason> {
    const total = Ipv4Packet.check(bytes, offset, length, verifyChecksum);
    return typeof total === 'number' ? new Ipv4Packet(bytes, offset, total) : total;
  }

  /** Re-points this view (zero-allocation receive path). Returns the failure or null. */
  wrap(bytes: Uint8Array, offset: number, length: number, verifyChecksum = true): ParseFailure<Ipv4ParseReason> | null {
    const total = Ipv4Packet.check(bytes, offset, length, verifyChecksum);
    if (typeof total !== 'number') return total;
    return this.rebind(bytes, offset, total);
  }

  /** Returns the datagram's total length, or the failure. */
  static check(b: Uint8Array, o: number, length: number, verifyChecksum: boolean): number | ParseFailure<Ipv4ParseReason> {
    if (!rangeOk(b, o, length) || length < IPV4_MIN_HEADER_LEN) return F_TRUNC;
    if (b[o] >> 4 !== 4) return F_VER;
    const hl = (b[o] & 0xf) * 4;
    if (hl < IPV4_MIN_HEADER_LEN) return F_IHL;
    if (hl > length) return F_TRUNC;
    const total = readU16(b, o + 2);
    if (total < hl) return F_TOTAL;
    if (total > length) return F_TRUNC;
    if (verifyChecksum && checksumFold(checksumAdd(0, b, o, hl)) !== 0xffff) return F_CSUM;
    return total;
  }

  get version(): number {
    return this.bytes[this.offset] >> 4;
  }
  get headerLength(): number {
    return (this.bytes[this.offset] & 0xf) * 4;
  }
  get dscp(): number {
    return this.bytes[this.offset + 1] >> 2;
  }
  get ecn(): number {
    return this.bytes[this.offset + 1] & 3;
  }
  get totalLength(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get identification(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  /** The reserved flag (RFC 791: must be zero). Not rejected: receivers ignore it in practice. */
  get reservedFlag(): boolean {
    return (this.bytes[this.offset + 6] & 0x80) !== 0;
  }
  get dontFragment(): boolean {
    return (this.bytes[this.offset + 6] & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.bytes[this.offset + 6] & 0x20) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (readU16(this.bytes, this.offset + 6) & 0x1fff) * 8;
  }
  /** True when this datagram is a fragment and must go to the reassembler before L4. */
  get isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }
  get ttl(): number {
    return this.bytes[this.offset + 8];
  }
  set ttl(v: number) {
    this.bytes[this.offset + 8] = v;
  }
  get protocol(): number {
    return this.bytes[this.offset + 9];
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 10);
  }
  set checksum(v: number) {
    writeU16(this.bytes, this.offset + 10, v);
  }
  get src(): Ipv4Address {
    return readU32(this.bytes, this.offset + 12);
  }
  set src(v: Ipv4Address) {
    writeU32(this.bytes, this.offset + 12, v);
  }
  get dst(): Ipv4Address {
    return readU32(this.bytes, this.offset + 16);
  }
  set dst(v: Ipv4Address) {
    writeU32(this.bytes, this.offset + 16, v);
  }
  get optionsOffset(): number {
    return this.offset + IPV4_MIN_HEADER_LEN;
  }
  get optionsLength(): number {
    return this.headerLength - IPV4_MIN_HEADER_LEN;
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  get payloadLength(): number {
    return this.length - this.headerLength;
  }

  verifyChecksum(): boolean {
    return checksumFold(checksumAdd(0, this.bytes, this.offset, this.headerLength)) === 0xffff;
  }
  /** Recomputes the header checksum after mutating fields through setters. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.bytes, this.offset, this.headerLength);
  }

  toRepr(): Ipv4Repr {
    return {
      src: this.src,
      dst: this.dst,
      protocol: this.protocol,
      ttl: this.ttl,
      payloadLength: this.payloadLength,
      identification: this.identification,
      dontFragment: this.dontFragment,
      moreFragments: this.moreFragments,
      fragmentOffset: this.fragmentOffset,
      dscp: this.dscp,
      ecn: this.ecn,
      options: this.bytes.subarray(this.optionsOffset, this.optionsOffset + this.optionsLength),
    };
  }
}

export function ipv4HeaderLength(repr: Ipv4Repr): number {
  return IPV4_MIN_HEADER_LEN + repr.options.length;
}

/**
 * Writes the header (with checksum) at `offset` and returns the header length. The payload is
 * not touched: the stack writes it in place behind the header (zero copy), so `bytes` need only
 * hold the header. Throws RangeError naming a bad field.
 */
export function emitIpv4(repr: Ipv4Repr, bytes: Uint8Array, offset: number): number {
  if (!isIpv4Address(repr.src)) badField('src', repr.src, 'not a 32-bit IPv4 address');
  if (!isIpv4Address(repr.dst)) badField('dst', repr.dst, 'not a 32-bit IPv4 address');
  checkUint('protocol', repr.protocol, 8);
  checkUint('ttl', repr.ttl, 8);
  checkUint('identification', repr.identification, 16);
  checkUint('dscp', repr.dscp, 6);
  checkUint('ecn', repr.ecn, 2);
  const opts = repr.options;
  if (!(opts instanceof Uint8Array) || opts.length % 4 !== 0 || opts.length > 40) {
    badField('options', opts?.length, 'must be a Uint8Array whose length is a multiple of 4, at most 40');
  }
  const hl = IPV4_MIN_HEADER_LEN + opts.length;
  checkUint('payloadLength', repr.payloadLength, 16);
  if (hl + repr.payloadLength > IPV4_MAX_TOTAL_LEN) {
    badField('payloadLength', repr.payloadLength, `header + payload exceeds ${IPV4_MAX_TOTAL_LEN}`);
  }
  if (!Number.isInteger(repr.fragmentOffset) || repr.fragmentOffset < 0 || repr.fragmentOffset % 8 !== 0 || repr.fragmentOffset > 0x1fff * 8) {
    badField('fragmentOffset', repr.fragmentOffset, 'must be a multiple of 8 in [0, 65528]');
  }
  checkSpace(bytes, offset, hl);
  return writeIpv4Header(repr, bytes, offset);
}

/**
 * `emitIpv4` without its checks: for a caller whose repr is valid by construction (the interface's
 * own output, once per frame, where the checks were a visible part of the transmit path). Returns
 * the header length.
 */
export function writeIpv4Header(repr: Ipv4Repr, bytes: Uint8Array, offset: number): number {
  const opts = repr.options;
  const hl = IPV4_MIN_HEADER_LEN + opts.length;
  bytes[offset] = 0x40 | (hl >> 2);
  bytes[offset + 1] = (repr.dscp << 2) | repr.ecn;
  writeU16(bytes, offset + 2, hl + repr.payloadLength);
  writeU16(bytes, offset + 4, repr.identification);
  writeU16(
    bytes,
    offset + 6,
    (repr.dontFragment ? 0x4000 : 0) | (repr.moreFragments ? 0x2000 : 0) | (repr.fragmentOffset / 8),
  );
  bytes[offset + 8] = repr.ttl;
  bytes[offset + 9] = repr.protocol;
  writeU16(bytes, offset + 10, 0);
  writeU32(bytes, offset + 12, repr.src);
  writeU32(bytes, offset + 16, repr.dst);
  if (opts.length > 0) bytes.set(opts, offset + IPV4_MIN_HEADER_LEN);
  writeU16(bytes, offset + 10, internetChecksum(bytes, offset, hl));
  return hl;
}
