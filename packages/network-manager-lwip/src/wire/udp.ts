// UDP (RFC 768). The checksum covers a pseudo-header (source, destination, zero, protocol 17,
// UDP length), the header and the data. A transmitted checksum of 0 means "none"; a computed 0
// is therefore sent as 0xffff (both are zero in one's complement).

import { PacketView } from './packet-view.js';
import { transportChecksum, transportChecksumValid } from './checksum.js';
import { IpProtocol } from './ipv4.js';
import { isIpv4Address, type Ipv4Address } from './ipv4-address.js';
import { badField, checkSpace, checkUint, failure, rangeOk, readU16, writeU16, type ParseFailure } from './result.js';

export const UDP_HEADER_LEN = 8;

export type UdpParseReason = 'truncated' | 'bad-length' | 'bad-checksum';
const F_TRUNC = failure('truncated');
const F_LEN = failure('bad-length');
const F_CSUM = failure('bad-checksum');

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payloadLength: number;
}

export class UdpPacket extends PacketView {
  // `length`: The datagram length from the UDP length field.

  /**
   * `length` is the IPv4 payload length. `src`/`dst` are the IPv4 addresses, needed for the
   * pseudo-header. `verifyChecksum` false skips the check (device-validated, virtio
   * DATA_VALID). Never throws.
   */
  static parse(
    bytes: Uint8Array,
    offset: number,
    length: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    verifyChecksum = true,
  ): UdpPacket | ParseFailure<UdpParseReason> {
    const r = UdpPacket.check(bytes, offset, length, src, dst, verifyChecksum);
    return typeof r === 'number' ? new UdpPacket(bytes, offset, r) : r;
  }

  wrap(bytes: Uint8Array, offset: number, length: number, src: Ipv4Address, dst: Ipv4Address, verifyChecksum = true): ParseFailure<UdpParseReason> | null {
    const r = UdpPacket.check(bytes, offset, length, src, dst, verifyChecksum);
    if (typeof r !== 'number') return r;
    return this.rebind(bytes, offset, r);
  }

  static check(
    b: Uint8Array,
    o: number,
    length: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    verifyChecksum: boolean,
  ): number | ParseFailure<UdpParseReason> {
    if (!rangeOk(b, o, length) || length < UDP_HEADER_LEN) return F_TRUNC;
    const udpLen = readU16(b, o + 4);
    // RFC 768: length includes the header. Shorter than the IP payload is legal (trailing bytes
    // are ignored, as Linux does); longer is not.
    if (udpLen < UDP_HEADER_LEN) return F_LEN;
    if (udpLen > length) return F_TRUNC;
    if (verifyChecksum && readU16(b, o + 6) !== 0) {
      if (!transportChecksumValid(src, dst, IpProtocol.Udp, b, o, udpLen)) return F_CSUM;
    }
    return udpLen;
  }

  get srcPort(): number {
    return readU16(this.bytes, this.offset);
  }
  get dstPort(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get lengthField(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.length - UDP_HEADER_LEN;
  }
  /** True if the checksum is absent (0) or correct. */
  verifyChecksum(src: Ipv4Address, dst: Ipv4Address): boolean {
    if (this.checksum === 0) return true;
    return transportChecksumValid(src, dst, IpProtocol.Udp, this.bytes, this.offset, this.length);
  }

  toRepr(): UdpRepr {
    return { srcPort: this.srcPort, dstPort: this.dstPort, payloadLength: this.payloadLength };
  }
}

/**
 * Writes the 8-byte header at `offset` and computes the checksum over the payload, which must
 * already be in place at `offset + 8` (zero copy). `checksum: false` sends 0 ("no checksum",
 * allowed by RFC 768 over IPv4). Returns 8.
 */
export function emitUdp(
  repr: UdpRepr,
  bytes: Uint8Array,
  offset: number,
  src: Ipv4Address,
  dst: Ipv4Address,
  checksum = true,
): number {
  checkUint('srcPort', repr.srcPort, 16);
  checkUint('dstPort', repr.dstPort, 16);
  checkUint('payloadLength', repr.payloadLength, 16);
  const len = UDP_HEADER_LEN + repr.payloadLength;
  if (len > 65535 - 20) badField('payloadLength', repr.payloadLength, 'datagram exceeds an IPv4 payload');
  if (!isIpv4Address(src)) badField('src', src, 'not a 32-bit IPv4 address');
  if (!isIpv4Address(dst)) badField('dst', dst, 'not a 32-bit IPv4 address');
  checkSpace(bytes, offset, checksum ? len : UDP_HEADER_LEN);
  writeU16(bytes, offset, repr.srcPort);
  writeU16(bytes, offset + 2, repr.dstPort);
  writeU16(bytes, offset + 4, len);
  writeU16(bytes, offset + 6, 0);
  if (checksum) {
    const c = transportChecksum(src, dst, IpProtocol.Udp, bytes, offset, len);
    writeU16(bytes, offset + 6, c === 0 ? 0xffff : c);
  }
  return UDP_HEADER_LEN;
}
